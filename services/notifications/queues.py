"""The send queue: notifications waiting to be sent, and when each is due. Internal.

Only the sender writes it. It takes in new notifications from this service's own notification log
(the Requested events after its tracking position, recorded in the same transaction), so the
consumers that request notifications never write what the sender writes, and never collide with it.
"""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import HubAggregate
from services.notifications.domain import NOTIFICATIONS

QUEUE_ID = uuid.uuid5(NOTIFICATIONS, "send-queue")
INTAKE_TRACKING = "__sender__"  # the last notification of the log the queue has taken in


class SendQueue(HubAggregate):
    class Event(HubAggregate.Event):
        published = False

    @staticmethod
    def create_id(**_: Any) -> uuid.UUID:
        return QUEUE_ID

    @event("Opened")
    def __init__(self) -> None:
        self.due: dict[str, str | None] = {}

    @event("Enqueued")
    def enqueue(self, entries: dict[str, str | None]) -> None:
        """Notification id → when it is due (stored UTC text), or None: due from when it was taken in.
        A province's import leaves a backlog of hundreds of thousands waiting for their channel's rate;
        None is one object for all of them where a time was one more string each (80 bytes of the
        entry's 210, in memory, in each Enqueued event and in every snapshot of the queue)."""
        self.due.update(entries)

    def reschedule(self, notification_id: str, due_at: str) -> None:  # a retry: due later
        if notification_id in self.due:
            self._rescheduled(notification_id=notification_id, due_at=due_at)

    @event("Rescheduled")
    def _rescheduled(self, notification_id: str, due_at: str) -> None:
        self.due[notification_id] = due_at

    def done(self, notification_id: str) -> None:
        if notification_id in self.due:
            self._done(notification_id=notification_id)

    @event("Done")
    def _done(self, notification_id: str) -> None:
        self.due.pop(notification_id, None)

    def finish(self, notification_ids: list[str]) -> None:
        """Takes a pass's sent notifications off the queue in one event (a snapshot of a long queue
        then comes once per hundred passes, not once per hundred messages)."""
        gone = [n for n in notification_ids if n in self.due]
        if gone:
            self._finished(notification_ids=gone)

    @event("Finished")
    def _finished(self, notification_ids: list[str]) -> None:
        for notification_id in notification_ids:
            self.due.pop(notification_id, None)
