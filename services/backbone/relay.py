"""The relay: a service's notification log → its RabbitMQ exchange, at least once, in order.

It reads a page of notifications after its last confirmed position, validates each event against
its contract, publishes the page with mandatory routing, waits once for the broker's confirms and
only then records the new position (a tracking record in the service's own store). A crash
anywhere republishes what was not recorded; consumers recognise the duplicates. The stream process's
relay records a confirmed position at most every RECORD_SECONDS while its pages are short (single
calls: a transaction per call saved, a restart republishes at most that long's events), a full page
at once, and what is left within RECORD_SECONDS at the head or when it stops. How far it has read past
the last published event (internal events) is recorded once a page of them, or at the head once a
second: a restart reads at most a page again, and `hubctl status` sees the lag of internal events
fall to 0.

Each envelope names the previous event published in the stream (`previous_id`), so a consumer
can tell a duplicate from a gap. Internal events (views, parked messages) are not published; the
recorded position is the last *published* event, so the chain survives restarts.

A batched upstream (infra/topology.yaml) sends up to its batch of a page's envelopes in one message,
a JSON array in the stream's order; consumers take it apart (consumer.py). Its `alone` events (a
queue binds their routing keys) still travel one to a message, in their place in the stream.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import amqp
import structlog
from eventsourcing.persistence import IntegrityError, Notification, Tracking
from eventsourcing.utils import resolve_topic

from services.backbone import at_rest, contracts, metrics, topology
from services.backbone.aggregate import is_published
from services.backbone.amqp import CONNECTION_ERRORS, connect, corked, raw_channel
from services.backbone.envelope import Envelope, batch_to_json, from_domain_event, from_stored
from services.backbone.reconnect import run_until_stopped
from services.backbone.settings import Settings
from services.backbone.store import HubApplication
from services.backbone.wakeup import StoreWakeup

log = structlog.get_logger(__name__)

RELAY_TRACKING = "__relay__"  # last notification published and confirmed
RELAY_READ_TRACKING = "__relay_read__"  # last notification read (published or internal)
# At the head, the read position is recorded at most this often (a consumer's views are a page each)
READ_RECORD_SECONDS = 1.0
# The stream process's relay records its confirmed position at most this often while pages are short
RECORD_SECONDS = 0.25
BATCH_TYPE = "batch"  # the AMQP type of a message that carries several envelopes (a JSON array)


class PublishError(RuntimeError):
    """The broker did not take a page (nack, unroutable, or no confirm in time)."""


# After these the relay reconnects and resumes from the position recorded in its store.
RETRYABLE: tuple[type[BaseException], ...] = (*CONNECTION_ERRORS, PublishError, IntegrityError)


def relay_position(app: HubApplication) -> int:
    return app.process_recorder.max_tracking_id(RELAY_TRACKING) or 0


def relay_read_position(app: HubApplication) -> int:
    read = app.process_recorder.max_tracking_id(RELAY_READ_TRACKING) or 0
    return max(read, relay_position(app))


def envelopes_after(
    app: HubApplication, position: int, limit: int, previous: int | None = None
) -> tuple[list[Envelope], int]:
    """The published envelopes of the next page after `position`, chained from `previous`
    (the last published id), and the last notification id the page covers."""
    notifications: list[Notification] = list(
        app.recorder.select_notifications(start=position, limit=limit, inclusive_of_start=False)
    )
    envelopes: list[Envelope] = []
    previous = position if previous is None else previous
    for notification in notifications:
        topic = notification.topic
        if not is_published(topic):
            continue  # internal (views, parked messages): stays in the store, never decoded here
        try:  # read straight from its JSON, not through the domain event the mapper would make
            stored: bytes | None = at_rest.plain(app, notification.state)
        except Exception:  # noqa: BLE001 - altered or unreadable: the mapper below raises its own error
            stored = None
        envelope = (
            None
            if stored is None
            else from_stored(app.service, notification, resolve_topic(topic), previous, stored)
        )
        if envelope is None:
            event = app.mapper.to_domain_event(notification)
            envelope = from_domain_event(app.service, notification, event, previous)
        contracts.validate(app.service, envelope.type, envelope.schema_version, envelope.payload)
        envelopes.append(envelope)
        previous = notification.id
    last = notifications[-1].id if notifications else position
    return envelopes, last


def to_messages(
    envelopes: list[Envelope], batch: int = 1, alone: frozenset[str] = frozenset()
) -> list[tuple[str, amqp.Message]]:
    """The page as AMQP messages with their routing keys, in the stream's order: one per envelope, or
    (for a batched upstream, topology.yaml) up to `batch` envelopes per message, routed by the first
    one's key. An envelope whose type is in `alone` always has a message of its own."""
    if batch <= 1:
        return [(e.routing_key, to_message(e)) for e in envelopes]
    messages: list[tuple[str, amqp.Message]] = []
    chunk: list[Envelope] = []

    def flush() -> None:
        if chunk:
            message = to_message(chunk[0]) if len(chunk) == 1 else to_batch_message(chunk)
            messages.append((chunk[0].routing_key, message))
            chunk.clear()

    for envelope in envelopes:
        if envelope.type in alone:
            flush()
            messages.append((envelope.routing_key, to_message(envelope)))
            continue
        chunk.append(envelope)
        if len(chunk) == batch:
            flush()
    flush()
    return messages


def to_batch_message(envelopes: list[Envelope]) -> amqp.Message:
    first, last = envelopes[0], envelopes[-1]
    return amqp.Message(
        batch_to_json(envelopes),
        content_type="application/json",
        content_encoding="utf-8",
        delivery_mode=2,
        message_id=f"{first.event_id}+{len(envelopes) - 1}",
        correlation_id=first.correlation_id,
        type=BATCH_TYPE,
        application_headers={
            "upstream": first.upstream,
            "notification_id": first.notification_id,
            "last_notification_id": last.notification_id,
            "count": len(envelopes),
        },
    )


def to_message(envelope: Envelope) -> amqp.Message:
    return amqp.Message(
        envelope.to_json(),
        content_type="application/json",
        content_encoding="utf-8",
        delivery_mode=2,
        message_id=envelope.event_id,
        correlation_id=envelope.correlation_id,
        type=envelope.type,
        application_headers={
            "schema_version": envelope.schema_version,
            "upstream": envelope.upstream,
            "notification_id": envelope.notification_id,
        },
    )


@dataclass
class _Confirms:
    """Collects the broker's answers for one page on a confirm-mode channel."""

    acked: int = 0
    failures: list[str] = field(default_factory=list)

    def on_ack(self, tag: int, multiple: bool) -> None:
        self.acked = max(self.acked, tag)

    def on_nack(self, tag: int, multiple: bool) -> None:
        self.failures.append(f"broker nacked delivery {tag}")

    def on_return(self, exc: Any, exchange: str, routing_key: str, message: Any) -> None:
        self.failures.append(f"unroutable on {exchange} with key {routing_key}: {exc}")


class Relay:
    """Publishes one service's events. Run one per service (it keeps the stream's order)."""

    def __init__(
        self,
        app: HubApplication,
        settings: Settings,
        subscribers: tuple[str, ...] | None = None,
        page_size: int | None = None,
        confirm_timeout: float = 30.0,
        idle_wait: float = 0.02,
        batch: int | None = None,
        record_every: float = 0.0,
    ) -> None:
        """`record_every`: the least time between two records of the confirmed position while pages
        are short (0, for a relay driven page by page: every page is recorded)."""
        self.app, self.settings = app, settings
        self.service = app.service
        self.subscribers = topology.consumers_of(self.service) if subscribers is None else subscribers
        self.page_size = page_size or settings.relay_page_size
        self.batch = batch or topology.batch_size_of(self.service)  # envelopes per message
        self.alone = topology.alone_of(self.service)  # types that travel one to a message
        self.confirm_timeout, self.idle_wait = confirm_timeout, idle_wait
        self.record_every = record_every
        self._conn: Any = None
        self._channel: Any = None
        self._confirms = _Confirms()
        self._published_tags = 0
        self._last_published = self._recorded = relay_position(app)  # confirmed; recorded in the store
        self._record_due = 0.0  # when the confirmed position may be recorded again (short pages)
        self._read_position = self._read_recorded = relay_read_position(app)
        self._read_due = 0.0  # when the read position may be recorded again at the head
        self.caught_up = False
        self._last_keep_alive = 0.0
        self._wakeup = StoreWakeup(app, idle_wait)

    # -- connection -------------------------------------------------------------------------
    def _open(self) -> None:
        self._conn = connect(self.settings.amqp_uri)
        channel = raw_channel(self._conn)
        for consumer in self.subscribers:
            topology.declare_consumer_queue(channel, self.settings, consumer, self.service)
        self.exchange = topology.declare_exchange(channel, self.settings, self.service)
        channel.confirm_select()
        self._confirms = _Confirms()
        channel.events["basic_ack"].add(self._confirms.on_ack)
        channel.events["basic_nack"].add(self._confirms.on_nack)
        channel.events["basic_return"].add(self._confirms.on_return)
        self._channel, self._published_tags = channel, 0

    def _restart_from_store(self) -> None:
        self._last_published = self._recorded = relay_position(self.app)
        self._read_position = self._read_recorded = relay_read_position(self.app)

    def close(self) -> None:
        conn, self._conn, self._channel = self._conn, None, None
        if conn is not None:
            try:
                conn.release()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass

    # -- one page ---------------------------------------------------------------------------
    def relay_page(self) -> int:
        """Publishes the next page and records the position. Returns how many were published."""
        if self._channel is None:
            self._open()
        envelopes, last = envelopes_after(self.app, self._read_position, self.page_size, self._last_published)
        self.caught_up = last == self._read_position
        if self.caught_up:
            metrics.RELAY_LAG.labels(self.service).set(0)
            self._at_head()
            return 0
        # Ids only grow: fewer than a page of them read means the page was short, the relay at the head.
        full = last - self._read_position >= self.page_size
        if envelopes:
            self._publish(envelopes)
            published = envelopes[-1].notification_id
            self._last_published = published
            if full or time.monotonic() >= self._record_due:
                self._record_published()
            metrics.EVENTS_PUBLISHED.labels(self.service).inc(len(envelopes))
            metrics.RELAY_POSITION.labels(self.service).set(published)
        self._read_position = last
        # The read position spares a restart from reading internal events again (the published position
        # covers the rest: relay_read_position takes the greater): recorded once a page of them has been
        # read past it, or at the head once a second, not after every page (a consumer's views are a
        # page each). A published position not recorded yet is, within `record_every`.
        if last - max(self._read_recorded, self._last_published) >= self.page_size:
            self._record_read()
        elif last == self._last_published:
            self._read_recorded = last  # the published position says as much
        head = (self.app.recorder.max_notification_id() or last) if full else last
        metrics.RELAY_LAG.labels(self.service).set(max(head - last, 0))
        if not full:
            # A short page was the head when it was read: the relay waits for the store's next
            # NOTIFY (one sent meanwhile is kept for it) instead of reading once more to find nothing.
            self.caught_up = True
            self._at_head()
        log.debug("relay_page", service=self.service, published=len(envelopes), position=last)
        return len(envelopes)

    def _at_head(self) -> None:
        self._keep_alive()
        now = time.monotonic()
        if self._last_published > self._recorded and now >= self._record_due:
            self._record_published()
        if self._read_position > self._read_recorded and now >= self._read_due:
            self._record_read()  # the position `hubctl status` counts the lag from

    def record_due_in(self) -> float | None:
        """Seconds until a confirmed position not yet recorded is due to be (None: nothing waits)."""
        if self._last_published <= self._recorded:
            return None
        return max(self._record_due - time.monotonic(), 0.0)

    def _record_published(self) -> None:
        if self._last_published > self._recorded:
            self.app.process_recorder.insert_tracking(Tracking(RELAY_TRACKING, self._last_published))
            self._recorded = self._last_published
        self._record_due = time.monotonic() + self.record_every

    def _record_read(self) -> None:
        self.app.process_recorder.insert_tracking(Tracking(RELAY_READ_TRACKING, self._read_position))
        self._read_recorded = self._read_position
        self._read_due = time.monotonic() + READ_RECORD_SECONDS

    def _keep_alive(self) -> None:
        """An idle relay neither sends nor reads: once a second it reads the broker's heartbeats and
        sends its own, or either side would drop the connection as dead within a minute."""
        now = time.monotonic()
        if now - self._last_keep_alive < 1.0:
            return
        self._last_keep_alive = now
        try:
            self._conn.drain_events(timeout=0)
        except TimeoutError:
            pass
        self._conn.heartbeat_check()

    def _publish(self, envelopes: list[Envelope]) -> None:
        confirms, channel = self._confirms, self._channel
        confirms.failures.clear()
        messages = to_messages(envelopes, self.batch, self.alone)
        with corked(self._conn):
            for routing_key, message in messages:
                channel.basic_publish(
                    message, exchange=self.exchange, routing_key=routing_key, mandatory=True
                )
        self._published_tags += len(messages)
        deadline = time.monotonic() + self.confirm_timeout
        while confirms.acked < self._published_tags and not confirms.failures:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishError(f"no confirm within {self.confirm_timeout}s")
            try:
                self._conn.drain_events(timeout=min(remaining, 1.0))
            except TimeoutError:
                continue
        if confirms.failures:
            raise PublishError("; ".join(confirms.failures[:3]))

    # -- the loop ---------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Relays until `stop` is set; reconnects and resumes after broker failures."""
        log.info("relay_started", service=self.service, position=self._last_published)
        resume = False

        def step() -> None:
            nonlocal resume
            if resume:  # whatever was not confirmed is published again, chained as before
                self._restart_from_store()
                resume = False
            try:
                self.relay_page()
            except contracts.ContractError as error:
                # Never skip: a stream with a hole is worse than a stopped one.
                log.error("relay_blocked_by_contract", service=self.service, error=str(error))
                stop.wait(5.0)
                return
            if self.caught_up:
                # until the store has new events (or a second passed, or a position is due)
                self._wakeup.wait(stop, self.record_due_in())

        def failed() -> None:
            nonlocal resume
            self.close()
            resume = True

        run_until_stopped(
            step, stop, what="relay", on_failure=failed, retryable=RETRYABLE, service=self.service
        )
        try:  # what the broker confirmed, recorded before leaving (a restart need not send it again)
            self._record_published()
        except Exception as error:  # noqa: BLE001 - the store is down: a restart publishes it again
            log.warning("relay_position_not_recorded", service=self.service, error=repr(error))
        self.close()
        self._wakeup.close()
        log.info("relay_stopped", service=self.service)
