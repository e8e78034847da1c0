"""nameko's RPC messages as the hub sends them: a worker's last steps (its reply and its
acknowledgement) survive a broker restart, and a call's request is not written to disk.

nameko publishes a worker's reply with kombu's retry policy of three quick attempts; when RabbitMQ
is down for longer, the publish raises inside the container's result handler and nameko stops the
whole container: the process exits and its RPC queue is left without a consumer (found by
`make chaos`: the registry died after a 20 s broker outage). Replies now retry for up to five
minutes, with backoff, so a service outlives a broker restart like the relays and consumers do; they
are not confirmed (see PatientPublisher). So does the connection a reply opens again for its channel,
which kombu makes with the transport options, not the retry policy
(tests/integration/test_reply_outage.py).

The acknowledgement that follows the reply has the same trap: nameko ignores only amqp's own
ConnectionError there, while a socket the broker reset raises the builtin ConnectionResetError
(an OSError), which again stopped the container (the filing service, in the broker-restart test).
An acknowledgement on a dead connection is moot: the broker has already taken the message back and
delivers it again to the consumer that the container reconnects.

A service stops in half a second instead of two or three (CONSUMER_TICK): nameko's consumer
notices that it is to cancel its consumers only between two waits for the broker, and kombu's wait
is a second; a service with RPC proxies cancels twice (its entrypoints, then its reply queue).
Ctrl-C under `make run` and every test's hub waited for it. Each wait that ends with nothing costs
the idle service a little CPU (a whole idle hub over 20 s: 0.62 CPU-seconds with waits of 1 s,
0.65-0.71 with 0.25 s, 0.85 with 0.1 s).

A call's request is published transient (RequestPublisher): a caller waits for its answer on a reply
queue that lives only as long as its connection, so a request kept on disk through a broker restart
would be worked on for nobody (a registration made that no one hears of, the client's retry then
refused as a second one). Confirmed and mandatory as before: an unroutable call is still UnknownService
at once. Persisting each request cost RabbitMQ ~2-3 times the CPU of a transient one
(a confirmed, mandatory publish consumed at once: 280-413 µs against 107-167).
"""

from __future__ import annotations

from typing import Any

import structlog
from amqp.exceptions import ConnectionError as AmqpConnectionError
from nameko.amqp.publish import DEFAULT_TRANSPORT_OPTIONS, Publisher
from nameko.messaging import QueueConsumer

from services.backbone import amqp as _read_ahead  # noqa: F401 - nameko's reads too (amqp.read_ahead)
from services.backbone import library

log = structlog.get_logger(__name__)

REPLY_RETRY_POLICY = {"max_retries": 90, "interval_start": 0.5, "interval_step": 1, "interval_max": 5}
# The connection a publish opens again for its channel retries by the transport options, outside the
# retry policy (kombu's OperationalError there is no error the policy retries): nameko's three attempts
# (9 s) stopped the registry 8 s into a 20 s broker restart in make chaos. As long as the policy now.
REPLY_TRANSPORT_OPTIONS = {**DEFAULT_TRANSPORT_OPTIONS, **REPLY_RETRY_POLICY}
CONSUMER_TICK = 0.25  # seconds a service's consumer waits for the broker before it looks at its stop
LOST_CONNECTION = (AmqpConnectionError, OSError)  # OSError: reset, broken pipe, timed out


class PatientPublisher(Publisher):
    retry_policy = REPLY_RETRY_POLICY
    transport_options = REPLY_TRANSPORT_OPTIONS
    # A reply goes to the caller's exclusive reply queue, which lives only as long as the caller's
    # connection: a broker that loses it has lost the queue too, confirmed or not, and the caller's
    # timeout is the answer either way. Waiting for the broker's confirm of every reply cost each RPC
    # a round trip (the service's worker and the broker) and bought nothing. A publish on a broken
    # connection still raises and is retried.
    use_confirms = False


class RequestPublisher(Publisher):
    delivery_mode = 1  # transient (see the module)


def _settled(how: str) -> Any:
    def settle(self: QueueConsumer, message: Any) -> None:
        if not message.channel.connection:
            return  # the broker has reclaimed it already
        try:
            getattr(message, how)()
        except LOST_CONNECTION as error:
            log.warning("nameko.settle_lost", how=how, error=repr(error))

    settle.__name__ = f"{how}_message"
    return settle


def install() -> None:
    library.patch_nameko_settlement(PatientPublisher, _settled("ack"), _settled("requeue"))
    library.patch_nameko_requests(RequestPublisher)
    library.patch_nameko_producers()  # every publish of nameko's, replies and requests alike
    library.patch_nameko_consumer_tick(CONSUMER_TICK)


install()
