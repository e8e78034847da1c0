"""The fan-out's delivery jobs on the real broker: one publish reaches exactly the addressed
departments' queues, and a pusher receives no list of departments with its job."""

from __future__ import annotations

import threading

import amqp
import pytest

from gateway.adapter.fanout import Fanout, declare
from services.backbone.amqp import ConfirmedChannel, connect, raw_channel
from services.backbone.settings import Settings
from services.kernel import filing_routes

pytestmark = pytest.mark.integration


def test_one_publish_reaches_exactly_the_addressed_queues_without_the_address_list(
    pg_settings: Settings,
) -> None:
    conn = connect(pg_settings.amqp_uri)
    queues = [filing_routes.delivery_queue(pg_settings, d) for d in ("AJ", "ZJ", "XF", "JY")]
    try:
        declare(raw_channel(conn), pg_settings)
        started: list[str] = []
        fanout = Fanout(pg_settings, threading.Event(), started.append)
        out = ConfirmedChannel(conn)
        fanout.ensure_queues(out, ["AJ", "ZJ", "XF", "JY"])
        assert started == ["AJ", "ZJ", "XF", "JY"]  # each department's pusher
        for n, departments in enumerate((["AJ", "ZJ", "XF"], ["JY"])):
            key, bcc = filing_routes.addressed(departments)
            job = amqp.Message(f"job {n}".encode(), delivery_mode=2, application_headers=bcc)
            out.publish(job, filing_routes.delivery_exchange(pg_settings), key)
        out.wait()
        channel = raw_channel(conn)
        received = {}
        for department, queue in zip(("AJ", "ZJ", "XF", "JY"), queues, strict=True):
            bodies = []
            while (message := channel.basic_get(queue, no_ack=True)) is not None:
                assert not (message.properties.get("application_headers") or {}).get("BCC")  # stripped
                bodies.append(message.body.decode())
            received[department] = bodies
        assert received == {"AJ": ["job 0"], "ZJ": ["job 0"], "XF": ["job 0"], "JY": ["job 1"]}
    finally:
        channel = raw_channel(conn)
        for queue in queues:
            channel.queue_delete(queue)
        for queue in (pg_settings.queue("adapter", "filing"), filing_routes.parked_queue(pg_settings)):
            channel.queue_delete(queue)
        for exchange in (
            filing_routes.delivery_exchange(pg_settings),
            filing_routes.subscription_exchange(pg_settings),
        ):
            channel.exchange_delete(exchange)
        conn.release()
