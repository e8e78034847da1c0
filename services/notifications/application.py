"""The notifications service's application: notifications and their send queue, views and ledgers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import IntegrityError, RecordConflictError, Tracking

from services.backbone.conflicts import retried
from services.backbone.errors import NotFoundError
from services.backbone.store import HubApplication, Processing
from services.backbone.view_cache import is_current
from services.kernel.validation import uuid_field
from services.notifications import clock
from services.notifications.channels import Message
from services.notifications.config import Retry
from services.notifications.domain import Notification, State
from services.notifications.ledgers import Campaigns, DangerLedger, FilingLedger, RiskLedger
from services.notifications.queues import INTAKE_TRACKING, QUEUE_ID, Lane, SendQueue
from services.notifications.views import Directory, EnterpriseCard, card_id

REQUESTED_TOPIC = f"{Notification.__module__}:Notification.Requested"


class NotificationsApplication(HubApplication):
    service = "notifications"
    snapshotting_intervals = {
        SendQueue: 100,
        Directory: 200,
        EnterpriseCard: 50,
        RiskLedger: 100,
        DangerLedger: 100,
        FilingLedger: 100,
        Campaigns: 50,
    }

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self._read_for_sending: dict[str, Notification] = {}  # the sender's thread only
        self._kept_queue: SendQueue | None = None  # the sender's thread only
        self._intake_read = 0  # how far the sender's intake has read the log (its thread only)

    # -- reading -------------------------------------------------------------------------------
    def _note(self, notification_id: str) -> Notification:
        found = self.find(uuid_field(notification_id, "notification_id"))
        if not isinstance(found, Notification):
            raise NotFoundError("notification_id", f"no notification {notification_id}")
        return found

    def notification(self, notification_id: str) -> dict[str, Any]:
        return self._note(notification_id).as_dict()

    def notifications(self, state: str = "", kind: str = "", limit: int = 1000) -> list[dict[str, Any]]:
        """Notifications in the order they were requested (of a state or kind, when given)."""
        found: list[dict[str, Any]] = []
        start = 1
        while page := self.recorder.select_notifications(start=start, limit=500, topics=[REQUESTED_TOPIC]):
            for item in page:
                note = self._note(str(item.originator_id)).as_dict()
                if (not state or note["state"] == state) and (not kind or note["kind"] == kind):
                    found.append(note)
                    if len(found) >= limit:
                        return found
            start = page[-1].id + 1
        return found

    # -- the sender's side (only the sender writes the queue) -----------------------------------
    def _queue(self) -> SendQueue:
        """The send queue, kept between the sender's passes: during a large import it holds hundreds of
        thousands of entries, and decoding it on every pass made each message cost more the longer
        the queue. The kept one is used only while the store ends exactly at its version (a standby
        sender, an operator's command or a failed save make it read afresh)."""
        kept = self._kept_queue
        if kept is not None and is_current(self, kept):
            return kept
        self._kept_queue = queue = self.find(QUEUE_ID) or SendQueue()
        return queue

    def intake(self, now: str, limit: int = 500) -> int:
        """Takes the notifications requested since the last intake into the send queue; how many.
        Remembers how far it read even when nothing there was requested (`read_topic`). What was
        requested by `now` is due from now on (None); what a clock ahead of this one requested later,
        at its time."""
        position = max(self.process_recorder.max_tracking_id(INTAKE_TRACKING) or 0, self._intake_read)
        page, read_to = self.read_topic(position, REQUESTED_TOPIC, limit)
        if not page:
            self._intake_read = read_to
            return 0
        queue = self._queue()
        lanes: dict[str, Lane] = {}
        for item in page:
            requested: Any = self.mapper.to_domain_event(item)
            if not queue.holds(notification := str(item.originator_id)):
                due = requested.requested_at if requested.requested_at > now else None
                lanes.setdefault(requested.channel, {})[notification] = due
        for channel, entries in lanes.items():
            queue.enqueue(entries=entries, channel=channel)
        processing: ProcessingEvent[Any] = Processing(Tracking(INTAKE_TRACKING, read_to))
        processing.collect_events(queue)
        try:
            self.record(processing)
        except (IntegrityError, RecordConflictError):
            return 0  # a standby sender took the same page in: the next pass reads on from there
        return len(page)

    def due_by_lane(self, now: str, limit: int) -> list[tuple[str, list[str]]]:
        """Each lane's channel ("": every channel's, of a queue from before the lanes) with up to
        `limit` notifications due there at `now`, in the order they were queued (the longest waiting
        first; a retry keeps its place). Read from the front of each lane until `limit` are found: a
        backlog of hundreds of thousands is not sorted on every pass."""
        found = []
        for channel, lane in self._queue().waiting():
            due = []
            for notification_id, at in lane.items():
                if at is None or at <= now:
                    due.append(notification_id)
                    if len(due) >= limit:
                        break
            found.append((channel, due))
        return found

    def message_of(self, notification_id: str) -> Message | None:
        """What the channel sends, with the recipient's address resolved; None when it is done. A
        message read for sending and held back by its channel's rate is not read from the store again."""
        note = self._read_for_sending.get(notification_id) or self._note(notification_id)
        if note.state in (State.SENT, State.GIVEN_UP):
            return None
        if len(self._read_for_sending) > 1000:
            self._read_for_sending.clear()
        self._read_for_sending[notification_id] = note  # recorded sent next: not loaded again
        recipient = note.recipient
        address, name = recipient.get("address", ""), recipient.get("name", "")
        if not address and recipient.get("kind") == "enterprise":
            card = self.find(card_id(recipient.get("enterprise_id", "")))
            if card is not None:
                address = str(card.profile.get("legal_representative_mobile") or "")
                name = str(card.profile.get("legal_representative") or name)
        return Message(str(note.id), note.channel, note.kind, address, name, note.text, note.enterprise_id)

    @retried
    def record_sent_many(self, sent: list[tuple[str, str]], at: datetime) -> None:
        """Records what the sender sent in one pass (notification id, receipt): one transaction."""
        notes = []
        for notification_id, receipt in sent:
            note = self._read_for_sending.pop(notification_id, None)
            if note is None or note.pending_events:  # a retry (after a conflict) reads afresh
                note = self._note(notification_id)
            if note.state in (State.REQUESTED, State.FAILED):
                note.sent(receipt, clock.utc(at))
            notes.append(note)
        queue = self._queue()
        queue.finish([notification_id for notification_id, _ in sent])
        self.save(*notes, queue)

    @retried
    def record_failure(self, notification_id: str, error: str, at: datetime, retry: Retry) -> str:
        """Records a failed attempt; the notification's state after it (failed, or given_up)."""
        self._read_for_sending.pop(notification_id, None)
        note, queue = self._note(notification_id), self._queue()
        if note.state in (State.REQUESTED, State.FAILED):
            attempt = note.attempts + 1
            retry_at = clock.utc(at + retry.delay(attempt)) if attempt < retry.max_attempts else None
            note.failed(error[:500], clock.utc(at), retry_at)
        if note.state == State.FAILED:
            queue.reschedule(notification_id, note.retry_at)
        else:
            queue.done(notification_id)
        self.save(note, queue)
        return str(note.state)

    @retried
    def dequeue(self, notification_id: str) -> None:
        queue = self._queue()
        queue.done(notification_id)
        self.save(queue)
