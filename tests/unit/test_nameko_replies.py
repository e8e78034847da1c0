"""A nameko worker's reply and acknowledgement outlive a broker restart instead of stopping the service."""

from __future__ import annotations

from typing import Any

import nameko.rpc
import pytest
from amqp.exceptions import ConnectionError as AmqpConnectionError
from nameko.messaging import QueueConsumer

import services.registry.service  # noqa: F401 - a service module, as `nameko run` imports it


class Message:
    def __init__(self, error: BaseException | None, connected: bool = True) -> None:
        self.error, self.settled = error, list[str]()
        self.channel = type("Channel", (), {"connection": object() if connected else None})()

    def ack(self) -> None:
        self._settle("ack")

    def requeue(self) -> None:
        self._settle("requeue")

    def _settle(self, how: str) -> None:
        if self.error:
            raise self.error
        self.settled.append(how)


def consumer() -> Any:
    return QueueConsumer.__new__(QueueConsumer)  # the methods only, no broker


@pytest.mark.parametrize(
    "error", [ConnectionResetError(104, "reset"), BrokenPipeError(), AmqpConnectionError()]
)
@pytest.mark.parametrize("how", ["ack_message", "requeue_message"])
def test_a_lost_connection_while_settling_is_not_fatal(error: BaseException, how: str) -> None:
    getattr(consumer(), how)(Message(error))  # raised and stopped the container before


@pytest.mark.parametrize("how", ["ack_message", "requeue_message"])
def test_settling_still_happens_on_a_live_connection(how: str) -> None:
    message = Message(None)
    getattr(consumer(), how)(message)
    assert message.settled == [how.removesuffix("_message")]


def test_nothing_is_sent_on_a_connection_already_gone() -> None:
    message = Message(None, connected=False)
    consumer().ack_message(message)
    assert message.settled == []


def test_other_errors_are_not_swallowed() -> None:
    with pytest.raises(ValueError):
        consumer().ack_message(Message(ValueError("a bug")))


def test_replies_retry_for_longer_than_a_broker_restart() -> None:
    publisher = nameko.rpc.Responder.publisher_cls
    policy = publisher.retry_policy
    assert publisher.retry is True
    # kombu waits interval_start, then one interval_step more each time, up to interval_max
    waited, interval = 0.0, policy["interval_start"]
    for _ in range(policy["max_retries"]):
        waited += min(interval, policy["interval_max"])
        interval += policy["interval_step"]
    assert waited > 120  # a 20 s outage in make chaos; a RabbitMQ node restart takes well under that


def test_a_service_consumer_looks_at_its_stop_between_short_waits() -> None:
    """A stopping service cancels its consumers only between two of the consumer's waits for the
    broker: kombu's wait of a second made every service take two or three to stop."""
    from services.backbone.nameko_replies import CONSUMER_TICK

    waits: list[dict[str, Any]] = []

    class Running(QueueConsumer):  # nameko's consumer, without a container or a broker
        should_stop = False
        restart_limit = type("Limit", (), {"can_consume": staticmethod(lambda _tokens: True)})()
        connection = type("Connection", (), {"connection_errors": (), "channel_errors": ()})()

        def consume(self, **kwargs: Any) -> Any:
            waits.append(kwargs)
            self.should_stop = True
            return iter(())

    Running.__new__(Running).run()
    assert waits == [{"limit": None, "safety_interval": CONSUMER_TICK}]
    assert CONSUMER_TICK <= 0.25  # two of them for a service with RPC proxies: half a second
