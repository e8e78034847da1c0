"""Deadlines: open dangers with a rectification deadline, and the timer's pass over them.

The timer (services/dangers/service.py) calls `check_deadlines(now)` with the real time; tests call it
with a time of their choosing. Overdue is an event raised here, once per danger, never a query at read
time. The index holds only dangers under rectification, so a pass never scans the whole store.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import InternalAggregate
from services.backbone.conflicts import retried
from services.dangers import clock
from services.dangers.base import DangersBase
from services.dangers.domain import HiddenDanger
from services.dangers.vocabulary import State

DEADLINES_ID = uuid.UUID("d7e3a1c5-2b94-4f6d-8e0a-9c1b5f3d7e21")


class DeadlineIndex(InternalAggregate):
    """Dangers being rectified: their deadline, and when they were found overdue."""

    @staticmethod
    def create_id(**_: Any) -> uuid.UUID:
        return DEADLINES_ID

    @event("Opened")
    def __init__(self) -> None:
        self.entries: dict[str, dict[str, str]] = {}

    def track(self, danger: HiddenDanger) -> None:
        """Follows a danger under rectification until it has been escalated to the authorities."""
        if danger.escalation == "authorities":
            self.untrack(str(danger.id))
            return
        entry = {"deadline": danger.plan["deadline"], "overdue_at": danger.overdue_at}
        if self.entries.get(str(danger.id)) != entry:
            self._tracked(danger_id=str(danger.id), entry=entry)

    # In place: a copy of the whole index on each event costs every danger being rectified.
    @event("Tracked")
    def _tracked(self, danger_id: str, entry: dict[str, str]) -> None:
        self.entries[danger_id] = dict(entry)

    def untrack(self, danger_id: str) -> None:
        if danger_id in self.entries:
            self._untracked(danger_id=danger_id)

    @event("Untracked")
    def _untracked(self, danger_id: str) -> None:
        self.entries.pop(danger_id, None)

    def due(self, now: datetime, delay: timedelta, limit: int) -> list[str]:
        """Dangers whose deadline has passed unnoticed, or whose escalation to authorities is due."""
        found = [
            danger_id
            for danger_id, entry in self.entries.items()
            if (not entry["overdue_at"] and clock.is_past(entry["deadline"], now))
            or (entry["overdue_at"] and now >= datetime.fromisoformat(entry["overdue_at"]) + delay)
        ]
        return sorted(found)[:limit]


class Deadlines(DangersBase):
    """The timer's use case, and the index the rectification workflow keeps current."""

    def _deadlines(self) -> DeadlineIndex:
        return self.find(DEADLINES_ID) or DeadlineIndex()

    @retried
    def check_deadlines(self, now: datetime, limit: int = 200) -> dict[str, list[str]]:
        """Raises what is due at `now` (at most `limit` dangers; "checked" lists them): Overdue with
        EscalatedToResponsible, then, after the escalation delay, EscalatedToAuthorities."""
        index = self._deadlines()
        answer: dict[str, list[str]] = {"checked": [], "overdue": [], "escalated_to_authorities": []}
        changed: list[Any] = []
        for danger_id in index.due(now, self.escalation_delay, limit):
            answer["checked"].append(danger_id)
            danger = self.find(uuid.UUID(danger_id))
            if not isinstance(danger, HiddenDanger) or danger.state != State.RECTIFYING:
                index.untrack(danger_id)
            elif danger.check_overdue(now):
                answer["overdue"].append(danger_id)
                changed.append(danger)
            elif danger.escalation_due(now, self.escalation_delay):
                supervisors = self._supervisors(danger)
                danger.escalate_to_authorities(now, self._town_office(supervisors), supervisors)
                answer["escalated_to_authorities"].append(danger_id)
                changed.append(danger)
            if isinstance(danger, HiddenDanger) and danger_id in index.entries:
                index.track(danger)  # keeps the entry in step with the danger (or drops it, see track)
        if changed or index.pending_events:
            self.save(index, *changed)
        return answer

    def _supervisors(self, danger: HiddenDanger) -> list[str]:
        record = self._enterprise_record(danger.enterprise_id)
        known = list(record.supervisors) if record is not None else []
        inspecting = danger.finding.get("department")
        return sorted({*known, inspecting} if inspecting else set(known))

    def _town_office(self, supervisors: list[str]) -> str:
        return self._departments().town_office(supervisors)
