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
from services.backbone.set_aside import set_aside, set_aside_id
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
        current = {k: v for k, v in self.entries.get(str(danger.id), {}).items() if k != "set_aside"}
        if current != entry:  # a changed danger is tried again, even one set aside
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

    def set_aside(self, danger_id: str, reason: str) -> None:
        """Leaves a danger out of the passes until it changes (its entry is tracked anew)."""
        if danger_id in self.entries and self.entries[danger_id].get("set_aside") != reason:
            self._set_aside(danger_id=danger_id, reason=reason)

    @event("SetAside")
    def _set_aside(self, danger_id: str, reason: str) -> None:
        self.entries[danger_id] = {**self.entries[danger_id], "set_aside": reason}

    def set_aside_ids(self) -> list[str]:
        return [danger_id for danger_id, entry in self.entries.items() if entry.get("set_aside")]

    def try_again(self, danger_id: str) -> None:
        if self.entries.get(danger_id, {}).get("set_aside"):
            self._tried_again(danger_id=danger_id)

    @event("TriedAgain")
    def _tried_again(self, danger_id: str) -> None:
        self.entries[danger_id] = {k: v for k, v in self.entries[danger_id].items() if k != "set_aside"}

    def due(
        self, now: datetime, delay: timedelta, limit: int
    ) -> tuple[list[str], list[tuple[str, BaseException]]]:
        """Dangers whose deadline has passed unnoticed, or whose escalation to authorities is due; and
        the entries that could not be read (each with its error), which the pass sets aside."""
        found: list[str] = []
        unreadable: list[tuple[str, BaseException]] = []
        for danger_id, entry in self.entries.items():
            if entry.get("set_aside"):
                continue
            try:
                if (not entry["overdue_at"] and clock.is_past(entry["deadline"], now)) or (
                    entry["overdue_at"] and now >= datetime.fromisoformat(entry["overdue_at"]) + delay
                ):
                    found.append(danger_id)
            except Exception as error:  # noqa: BLE001 - one entry never stops the pass
                unreadable.append((danger_id, error))
        return sorted(found)[:limit], unreadable


class Deadlines(DangersBase):
    """The timer's use case, and the index the rectification workflow keeps current."""

    def _deadlines(self) -> DeadlineIndex:
        return self.find(DEADLINES_ID) or DeadlineIndex()

    @retried
    def check_deadlines(self, now: datetime, limit: int = 200) -> dict[str, list[str]]:
        """Raises what is due at `now` (at most `limit` dangers; "checked" lists them): Overdue with
        EscalatedToResponsible, then, after the escalation delay, EscalatedToAuthorities."""
        index = self._deadlines()
        answer: dict[str, list[str]] = {
            "checked": [],
            "overdue": [],
            "escalated_to_authorities": [],
            "set_aside": [],
        }
        changed: list[Any] = []
        for danger_id in index.set_aside_ids():  # an operator cleared it (hubctl parked clear): again
            item = self.find(set_aside_id("deadlines", danger_id))
            if item is not None and item.status != "set_aside":
                index.try_again(danger_id)
        due, unreadable = index.due(now, self.escalation_delay, limit)
        for danger_id, error in unreadable:
            self._set_aside(index, danger_id, error, answer)
        for danger_id in due:
            answer["checked"].append(danger_id)
            try:
                danger = self._check_one(danger_id, now, index, answer)
            except Exception as error:  # noqa: BLE001 - one danger never stops the others' deadlines
                self._set_aside(index, danger_id, error, answer)
                continue
            if danger is not None:
                changed.append(danger)
        if changed or index.pending_events:
            self.save(index, *changed)
        return answer

    def _check_one(
        self, danger_id: str, now: datetime, index: DeadlineIndex, answer: dict[str, list[str]]
    ) -> HiddenDanger | None:
        """Raises what is due for one danger; the danger when it changed."""
        danger = self.find(uuid.UUID(danger_id))
        changed = None
        if not isinstance(danger, HiddenDanger) or danger.state != State.RECTIFYING:
            index.untrack(danger_id)
        elif danger.check_overdue(now):
            answer["overdue"].append(danger_id)
            changed = danger
        elif danger.escalation_due(now, self.escalation_delay):
            supervisors = self._supervisors(danger)
            danger.escalate_to_authorities(now, self._town_office(supervisors), supervisors)
            answer["escalated_to_authorities"].append(danger_id)
            changed = danger
        if isinstance(danger, HiddenDanger) and danger_id in index.entries:
            index.track(danger)  # keeps the entry in step with the danger (or drops it, see track)
        return changed

    def _set_aside(
        self, index: DeadlineIndex, danger_id: str, error: BaseException, answer: dict[str, list[str]]
    ) -> None:
        set_aside(self, "deadlines", danger_id, error)
        index.set_aside(danger_id, f"{type(error).__name__}: {error}"[:200])
        answer["set_aside"].append(danger_id)

    def _supervisors(self, danger: HiddenDanger) -> list[str]:
        record = self._enterprise_record(danger.enterprise_id)
        known = list(record.supervisors) if record is not None else []
        inspecting = danger.finding.get("department")
        return sorted({*known, inspecting} if inspecting else set(known))

    def _town_office(self, supervisors: list[str]) -> str:
        return self._departments().town_office(supervisors)
