"""RPC replies that wait out a broker restart instead of killing the service.

nameko publishes a worker's reply with kombu's retry policy of three quick attempts; when RabbitMQ
is down for longer, the publish raises inside the container's result handler and nameko stops the
whole container: the process exits and its RPC queue is left without a consumer (found by
`make chaos`: the registry died after a 20 s broker outage). Replies now retry for up to five
minutes, with backoff, so a service outlives a broker restart like the relays and consumers do.
"""

from __future__ import annotations

import nameko.rpc
from nameko.amqp.publish import Publisher

REPLY_RETRY_POLICY = {"max_retries": 90, "interval_start": 0.5, "interval_step": 1, "interval_max": 5}


class PatientPublisher(Publisher):
    retry_policy = REPLY_RETRY_POLICY


def install() -> None:
    nameko.rpc.Responder.publisher_cls = PatientPublisher


install()
