"""The tracked consumer: one ordered queue per (consumer, upstream), applied exactly once.

Messages are applied a page per transaction (a page counts envelopes: a message of a batched
upstream carries several, and is acknowledged once all of them are applied). The tracking record
(upstream, notification id) is written in the same transaction as the events they cause, so a
redelivered message changes nothing. Each envelope names its predecessor in the upstream's stream
(`previous_id`): a message that arrives before its predecessor is held until the gap closes, never
taken for a duplicate.
A message that still fails after bounded retries is parked in the consumer's own store (with its
error, in the same transaction as its tracking record) and can be replayed with `hubctl`.

A page of envelopes this consumer has no handler for changes nothing but the position: it is neither
recorded nor acknowledged on its own. Its messages stay unacknowledged until a later page's tracking
record covers them, or a tracking record of their own after DEFER_MAX messages or DEFER_SECONDS: a
crash before then has them delivered again, and skipped again.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Any

import structlog
from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import IntegrityError, RecordConflictError, Tracking

from services.backbone import correlation, metrics, topology
from services.backbone.amqp import connect, raw_channel
from services.backbone.envelope import Envelope, envelopes_from_json
from services.backbone.handlers import Handlers, UnitOfWork
from services.backbone.parking import ParkedMessage
from services.backbone.reconnect import run_until_stopped
from services.backbone.settings import Settings
from services.backbone.store import HubApplication, Processing

log = structlog.get_logger(__name__)

DEFER_MAX = 50  # unhandled messages left unacknowledged at most (well inside any prefetch window)
# and for at most this long: a reader that waits for its position to reach a write (consistency.py)
# waits this much longer at most when the write's last event is one it has no handler for
DEFER_SECONDS = 0.1


@dataclass
class Delivery:
    tag: int
    envelope: Envelope


class TrackedConsumer:
    """Applies one upstream's events to a consuming service's store, in order, exactly once."""

    def __init__(
        self,
        app: HubApplication,
        handlers: Handlers,
        settings: Settings,
        upstream: str,
        batch_size: int | None = None,
        max_attempts: int | None = None,
        retry_delay: float = 0.05,
        hold_timeout: float = 10.0,
    ) -> None:
        self.app, self.handlers, self.settings, self.upstream = app, handlers, settings, upstream
        self.consumer = handlers.consumer
        self.queue = settings.queue(self.consumer, upstream)
        self.batch_size = batch_size or settings.consumer_batch_size
        self.max_attempts = max_attempts or settings.consumer_max_attempts
        # In messages: two pages of single envelopes, at least 200 (a stretch out of order is held until
        # its gap closes). A batched upstream's messages hold up to 100 envelopes each: 200 of them then
        # (~30 MB at most), not two pages' worth of messages of 100.
        batched = topology.batch_size_of(upstream) > 1
        self.prefetch = 200 if batched else max(2 * self.batch_size, 200)
        self.retry_delay, self.hold_timeout = retry_delay, hold_timeout
        self._conn: Any = None
        self._channel: Any = None
        self._inbox: list[Any] = []
        self._inbox_envelopes = 0  # how many envelopes the messages of the inbox carry
        self._held: dict[int, Delivery] = {}  # by previous_id
        self._held_ids: set[int] = set()  # notification ids of the held deliveries
        self._held_since = 0.0
        self._position = 0
        self._deferred: set[int] = set()  # tags of unhandled messages applied, not yet recorded
        self._deferred_since = 0.0
        self._labels = (self.consumer, upstream)

    def position(self) -> int:
        """The last upstream notification this consumer has applied (from its store)."""
        return self.app.process_recorder.max_tracking_id(self.upstream) or 0

    # -- connection -------------------------------------------------------------------------
    def _open(self) -> None:
        self._conn = connect(self.settings.amqp_uri)
        channel = raw_channel(self._conn)
        topology.declare_consumer_queue(channel, self.settings, self.consumer, self.upstream)
        channel.basic_qos(0, self.prefetch, False)
        channel.basic_consume(self.queue, callback=self._receive, no_ack=False)
        self._channel = channel
        self._inbox.clear()
        self._inbox_envelopes = 0
        self._held.clear()
        self._held_ids.clear()
        self._deferred.clear()  # unacknowledged on a channel now gone: the broker delivers them again
        self._position = self.position()

    def close(self) -> None:
        conn, self._conn, self._channel = self._conn, None, None
        if conn is not None:
            try:
                conn.release()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass

    def run(self, stop: threading.Event) -> None:
        """Consumes until `stop` is set; reconnects after broker and database failures. Unacknowledged
        messages return to the queue and the position is read again from the store on reopening, so
        nothing is lost and nothing applied twice."""

        def session() -> None:
            self._open()
            log.info("consumer_started", queue=self.queue, position=self._position)
            while not stop.is_set():
                self.poll()

        run_until_stopped(session, stop, what="consumer", on_failure=self.close, queue=self.queue)
        self.close()

    def _receive(self, message: Any) -> None:
        self._inbox.append(message)
        headers = message.properties.get("application_headers") or {}
        count = headers.get("count", 1)
        self._inbox_envelopes += count if isinstance(count, int) and count > 0 else 1

    def poll(self, wait: float = 0.5, linger: float = 0.01) -> int:
        """Receives up to a page of messages and applies what is in order. Returns applied."""
        if self._channel is None:
            self._open()
        self._conn.heartbeat_check()
        timeout = wait
        if self._deferred:  # not past the moment the deferred position is due to be recorded
            timeout = min(wait, max(self._deferred_since + DEFER_SECONDS - time.monotonic(), 0.001))
        while self._inbox_envelopes < self.batch_size:
            try:
                self._conn.drain_events(timeout=timeout)
            except TimeoutError:
                break
            timeout = linger
        messages, self._inbox[:] = list(self._inbox), []
        self._inbox_envelopes = 0
        applied = self.process(messages) if messages else 0
        if self._deferred and (
            not messages
            or len(self._deferred) >= DEFER_MAX
            or time.monotonic() - self._deferred_since >= DEFER_SECONDS
        ):
            self._record_deferred()
        self._release_stuck_holds()
        return applied

    # -- ordering ---------------------------------------------------------------------------
    def process(self, messages: list[Any]) -> int:
        ready: list[Delivery] = []
        duplicates: list[int] = []
        for message in messages:
            tag = message.delivery_info["delivery_tag"]
            try:
                envelopes = envelopes_from_json(message.body)
                if any(envelope.upstream != self.upstream for envelope in envelopes):
                    raise ValueError(f"envelope from {envelopes[0].upstream!r} on {self.queue}")
            except (ValueError, TypeError) as error:
                self._park_unreadable(message.body, error)
                duplicates.append(tag)  # done with: acked with the page
                continue
            for envelope in envelopes:
                if envelope.notification_id <= self._position or envelope.notification_id in self._held_ids:
                    duplicates.append(tag)
                    continue
                if not self._held:
                    self._held_since = time.monotonic()
                self._held[envelope.previous_id] = Delivery(tag, envelope)
                self._held_ids.add(envelope.notification_id)
        position = self._position
        while self._held:
            delivery = self._held.pop(position, None)
            if delivery is None:
                # previous_id below our position: the gap is already covered.
                key = min((k for k in self._held if k < position), default=None)
                if key is None:
                    break
                delivery = self._held.pop(key)
            ready.append(delivery)
            position = delivery.envelope.notification_id
            self._held_ids.discard(position)
        if not self._held:
            self._held_since = 0.0
        applied = self._apply_page(ready) if ready else 0
        self._ack([d.tag for d in ready] + duplicates)  # once each, after their effects are stored
        if duplicates:
            metrics.DUPLICATES.labels(*self._labels).inc(len(duplicates))
        return applied

    def _ack(self, tags: list[int]) -> None:
        """Acknowledges the messages whose envelopes are all applied (or known already): one
        multiple-ack when no held (unacked, older) message would be swept up with it."""
        held = {d.tag for d in self._held.values()} | self._deferred
        done = sorted(set(tags) - held)  # a batch partly held waits for the rest of its envelopes
        if not done:
            return
        highest = done[-1]
        if not held or min(held) > highest:
            self._channel.basic_ack(highest, multiple=True)
        else:
            for tag in done:
                self._channel.basic_ack(tag)

    def _release_stuck_holds(self) -> None:
        """Gives held messages back to the broker when the gap does not close, so the prefetch
        window cannot fill up with messages waiting for one that sits behind them."""
        if not self._held:
            return
        tags = sorted({d.tag for d in self._held.values()})
        too_many = len(tags) >= self.prefetch // 2
        too_long = time.monotonic() - self._held_since > self.hold_timeout
        if too_many or too_long:
            log.warning(
                "consumer_gap",
                queue=self.queue,
                position=self._position,
                held=len(self._held),
                waiting_for=min(self._held),
            )
            for tag in tags:
                self._channel.basic_reject(tag, True)
            self._held.clear()
            self._held_ids.clear()
            self._held_since = 0.0

    # -- applying ---------------------------------------------------------------------------
    def _defer(self, page: list[Delivery]) -> bool:
        """Takes a page with nothing to apply as applied, unrecorded and unacknowledged (see above)."""
        if any(self.handlers.handles(d.envelope) for d in page):
            return False
        if not self._deferred:
            self._deferred_since = time.monotonic()
        self._deferred.update(d.tag for d in page)
        self._position = page[-1].envelope.notification_id
        return True

    def _record_deferred(self) -> None:
        """Records the position the deferred pages reached, then acknowledges their messages."""
        try:
            self.app.record(Processing(Tracking(self.upstream, self._position)))
        except IntegrityError:
            pass  # recorded already (another instance, or a later page's record)
        self._ack_deferred()

    def _ack_deferred(self) -> None:
        tags, self._deferred = self._deferred, set()
        self._ack(sorted(tags))

    def _apply_page(self, page: list[Delivery]) -> int:
        if not self._defer(page):
            self._store(page)
        metrics.EVENTS_CONSUMED.labels(*self._labels).inc(len(page))
        metrics.CONSUMER_POSITION.labels(*self._labels).set(self._position)
        return len(page)

    def _store(self, page: list[Delivery]) -> None:
        if self._deferred:
            # the page's own tracking record covers the deferred ones: acknowledged once it is stored
            try:
                self._record(page)
            except Exception:  # noqa: BLE001 - the deferred position alone first, then as any page
                self._record_deferred()
            else:
                self._position = page[-1].envelope.notification_id
                self._ack_deferred()
                return
        try:
            self._record(page)
        except RecordConflictError:
            # Tracking says someone applied part of it already, or an aggregate moved on.
            self._position = self.position()
            page = [d for d in page if d.envelope.notification_id > self._position]
            for delivery in page:
                self._apply_one(delivery)
        except Exception:  # noqa: BLE001 - one message is bad; find it, keep the rest
            for delivery in page:
                self._apply_one(delivery)
        else:
            self._position = page[-1].envelope.notification_id

    def _record(self, page: list[Delivery]) -> None:
        uow = UnitOfWork(self.app)
        self.handlers.prefetch(uow, (delivery.envelope for delivery in page))
        for delivery in page:
            with correlation.bound(delivery.envelope.correlation_id):
                self.handlers.apply(uow, delivery.envelope)
        processing: ProcessingEvent[Any] = Processing(
            Tracking(self.upstream, page[-1].envelope.notification_id)
        )
        uow.collect(processing)
        self.app.record(processing)

    def _apply_one(self, delivery: Delivery) -> None:
        envelope = delivery.envelope
        error: BaseException | None = None
        for attempt in range(1, self.max_attempts + 1):
            if envelope.notification_id <= self.position():
                break  # applied meanwhile
            try:
                self._record([delivery])
                error = None
                break
            except Exception as exc:  # noqa: BLE001 - retried, then parked
                error = exc
                log.warning(
                    "consumer_retry",
                    queue=self.queue,
                    notification_id=envelope.notification_id,
                    attempt=attempt,
                    error=repr(exc),
                )
                time.sleep(self.retry_delay * 2 ** (attempt - 1))
        if error is not None:
            self._park(envelope, error)
        self._position = max(self._position, envelope.notification_id)

    def _park(self, envelope: Envelope, error: BaseException) -> None:
        parked = ParkedMessage(
            consumer=self.consumer,
            upstream=self.upstream,
            key=str(envelope.notification_id),
            envelope=envelope.__dict__,
            error=f"{type(error).__name__}: {error}",
            attempts=self.max_attempts,
        )
        processing: ProcessingEvent[Any] = Processing(Tracking(self.upstream, envelope.notification_id))
        processing.collect_events(parked)
        try:
            self.app.record(processing)
        except IntegrityError:
            return  # parked (or applied) by another instance already
        metrics.PARKED.labels(*self._labels).inc()
        log.error(
            "message_parked",
            queue=self.queue,
            notification_id=envelope.notification_id,
            type=envelope.type,
            error=str(error),
        )

    def _park_unreadable(self, body: bytes | str, error: BaseException) -> None:
        raw = body if isinstance(body, bytes) else body.encode("utf-8", "replace")
        key = "raw:" + hashlib.sha256(raw).hexdigest()[:32]
        parked = ParkedMessage(
            consumer=self.consumer,
            upstream=self.upstream,
            key=key,
            envelope={"raw": raw.decode("utf-8", "replace")},
            error=f"unreadable: {error}",
            attempts=1,
        )
        try:
            self.app.save(parked)
        except IntegrityError:
            pass
        metrics.PARKED.labels(*self._labels).inc()
        log.error("message_unreadable_parked", queue=self.queue, error=str(error))
