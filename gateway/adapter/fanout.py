"""Fans each filed register out to its departments, then acknowledges the event: at least once,
never lost. One publish carries the delivery job to every addressed department's queue (a direct
exchange, the departments in BCC) and one more the filing to their AMQP subscriptions (a headers
exchange): the broker stores and routes a 60 KB register once, not once per department."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import amqp
import structlog

from gateway.adapter import jobs
from services.backbone import topology
from services.backbone.amqp import ConfirmedChannel, connect, raw_channel
from services.backbone.envelope import Envelope
from services.backbone.reconnect import run_until_stopped
from services.backbone.settings import Settings
from services.kernel import filing_routes

log = structlog.get_logger(__name__)
CONSUMER = "adapter"


def declare(channel: Any, settings: Settings) -> str:
    """The adapter's ordered queue of filing events, and the subscription exchange."""
    exchange = topology.declare_exchange(channel, settings, "filing")
    queue = settings.queue(CONSUMER, "filing")
    channel.queue_declare(
        queue, durable=True, auto_delete=False, arguments=topology.consumer_queue_arguments(settings)
    )
    channel.queue_bind(queue, exchange, "Filing.Submitted.*")
    channel.exchange_declare(
        filing_routes.delivery_exchange(settings), "direct", durable=True, auto_delete=False
    )
    channel.exchange_declare(
        filing_routes.subscription_exchange(settings), "headers", durable=True, auto_delete=False
    )
    channel.queue_declare(filing_routes.parked_queue(settings), durable=True, auto_delete=False)
    return queue


class Fanout:
    def __init__(
        self, settings: Settings, stop: threading.Event, on_department: Callable[[str], None]
    ) -> None:
        self.settings, self.stop, self.on_department = settings, stop, on_department
        self._inbox: list[Any] = []
        self._declared: set[str] = set()  # departments whose queues are declared and bound on this connection

    def run(self) -> None:
        def session() -> None:
            conn = connect(self.settings.amqp_uri)
            try:
                self._serve(conn)
            finally:
                try:
                    conn.release()
                except Exception:  # noqa: BLE001 - closing a broken connection
                    pass

        # whatever was not acknowledged comes back after the reconnection: nothing kept in hand
        run_until_stopped(session, self.stop, what="fanout", on_failure=self._inbox.clear, first_pause=1.0)

    def _serve(self, conn: Any) -> None:
        channel = raw_channel(conn)
        queue = self.declare(channel)
        channel.basic_qos(0, 50, False)
        channel.basic_consume(queue, callback=self._inbox.append)
        out = ConfirmedChannel(conn)
        self._declared.clear()
        while not self.stop.is_set():
            try:
                conn.drain_events(timeout=0.5)
            except TimeoutError:
                conn.heartbeat_check()
            if self._inbox:
                # every filing that arrived meanwhile, then one wait for the broker's confirms
                batch, self._inbox[:] = list(self._inbox), []
                filed = [self.fan_out(out, message.body) for message in batch]
                out.wait()  # the events are acked only after every job is safe with the broker
                channel.basic_ack(batch[-1].delivery_info["delivery_tag"], multiple=True)
                for envelope in filed:
                    self.fanned_out(envelope)

    def declare(self, channel: Any) -> str:
        """The queue this fan-out consumes (declared, bound) and the exchanges it publishes to."""
        return declare(channel, self.settings)

    def fanned_out(self, envelope: Envelope) -> None:
        log.info(
            "filing_fanned_out",
            enterprise_id=envelope.enterprise_id,
            departments=len(envelope.payload["departments"]),
        )

    def fan_out(self, out: ConfirmedChannel, body: bytes) -> Envelope:
        """Publishes a filing's delivery job and its subscription copy (confirmed by the caller)."""
        envelope = Envelope.from_json(body)
        job = jobs.job_from(envelope)
        self.ensure_queues(out, job["departments"])
        key, bcc = filing_routes.addressed(job["departments"])
        message = amqp.Message(
            jobs.to_bytes(job),
            delivery_mode=2,
            correlation_id=envelope.correlation_id,
            application_headers=bcc,
        )
        out.publish(message, exchange=filing_routes.delivery_exchange(self.settings), routing_key=key)
        route = filing_routes.route(job["departments"])
        copy = amqp.Message(body, delivery_mode=2, content_type="application/json", application_headers=route)
        # A department without an AMQP subscription simply has no queue bound: not mandatory.
        out.publish(copy, filing_routes.subscription_exchange(self.settings), "", mandatory=False)
        return envelope

    def ensure_queues(self, out: ConfirmedChannel, departments: list[str]) -> None:
        """Each department's delivery queue declared and bound (and its pusher started), once per
        connection."""
        for department in departments:
            if department not in self._declared:  # once per connection, not once per filing
                self.on_department(department)  # its pusher (pushers are never stopped)
                queue = filing_routes.delivery_queue(self.settings, department)
                out.channel.queue_declare(queue, durable=True, auto_delete=False)
                out.channel.queue_bind(queue, filing_routes.delivery_exchange(self.settings), department)
                self._declared.add(department)
