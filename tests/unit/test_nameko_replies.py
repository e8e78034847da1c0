"""Every nameko service replies with a publisher that waits out a broker restart."""

from __future__ import annotations

import nameko.rpc

import services.registry.service  # noqa: F401 - a service module, as `nameko run` imports it


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
