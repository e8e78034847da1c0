"""The send queue: notifications waiting to be sent, and when each is due, in one lane per channel, so
that one channel's backlog waiting for its rate (an import's SMS, by the hundred thousand) never holds
back another channel's messages. Internal.

Only the sender writes it. It takes in new notifications from this service's own notification log
(the Requested events after its tracking position, recorded in the same transaction), so the
consumers that request notifications never write what the sender writes, and never collide with it.
A queue from before the lanes holds every channel's entries in one (`due`): drained as it was.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import HubAggregate
from services.notifications.domain import NOTIFICATIONS, Channel

QUEUE_ID = uuid.uuid5(NOTIFICATIONS, "send-queue")
INTAKE_TRACKING = "__sender__"  # the last notification of the log the queue has taken in
CHANNELS = frozenset(str(c) for c in Channel)
Lane = dict[str, str | None]  # notification id → when it is due (see enqueue)


class SendQueue(HubAggregate):
    class Event(HubAggregate.Event):
        published = False

    @staticmethod
    def create_id(**_: Any) -> uuid.UUID:
        return QUEUE_ID

    @event("Opened")
    def __init__(self) -> None:
        self.due: Lane = {}  # every channel's: the entries taken in before there were lanes
        self.lanes: dict[str, Lane] = {}  # channel → its entries, in the order they were taken in

    def _lanes(self) -> dict[str, Lane]:
        return self.__dict__.setdefault("lanes", {})  # none in a snapshot from before the lanes

    def waiting(self) -> Iterator[tuple[str, Lane]]:
        """Each non-empty lane with its channel ("": every channel's, of a queue from before)."""
        yield from ((c, lane) for c, lane in (("", self.due), *self._lanes().items()) if lane)

    def _holding(self, notification_id: str) -> Lane | None:
        return next((lane for _, lane in self.waiting() if notification_id in lane), None)

    def holds(self, notification_id: str) -> bool:
        return self._holding(notification_id) is not None

    def size(self) -> int:  # not __len__: an empty aggregate must not be false
        return sum(len(lane) for _, lane in self.waiting())

    @event("Enqueued")
    def enqueue(self, entries: Lane, channel: str = "") -> None:
        """Notification id → when it is due (stored UTC text), or None: due from when it was taken in.
        A province's import leaves a backlog of hundreds of thousands waiting for their channel's rate;
        None is one object for all of them where a time was one more string each (80 bytes of the
        entry's 210, in memory, in each Enqueued event and in every snapshot of the queue). An event
        stored before the lanes has no channel: its entries go where that queue's went."""
        lane = self._lanes().setdefault(channel, {}) if channel in CHANNELS else self.due
        lane.update(entries)

    def reschedule(self, notification_id: str, due_at: str) -> None:  # a retry: due later, in its place
        if self.holds(notification_id):
            self._rescheduled(notification_id=notification_id, due_at=due_at)

    @event("Rescheduled")
    def _rescheduled(self, notification_id: str, due_at: str) -> None:
        lane = self._holding(notification_id)
        if lane is not None:
            lane[notification_id] = due_at

    def done(self, notification_id: str) -> None:
        if self.holds(notification_id):
            self._done(notification_id=notification_id)

    @event("Done")
    def _done(self, notification_id: str) -> None:
        lane = self._holding(notification_id)
        if lane is not None:
            lane.pop(notification_id)

    def finish(self, notification_ids: list[str]) -> None:
        """Takes a pass's sent notifications off the queue in one event (a snapshot of a long queue
        then comes once per hundred passes, not once per hundred messages)."""
        gone = [n for n in notification_ids if self.holds(n)]
        if gone:
            self._finished(notification_ids=gone)

    @event("Finished")
    def _finished(self, notification_ids: list[str]) -> None:
        for notification_id in notification_ids:
            lane = self._holding(notification_id)
            if lane is not None:
                lane.pop(notification_id)
