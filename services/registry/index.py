"""Internal indexes of enterprises by town, industry and supervising department.

Why index aggregates, not a scan of the notification log: the registry must list a town's or a
department's enterprises on every routing change and for later services (filing fan-out, the monthly
report), and a log scan costs every event ever stored, growing without bound. An index is an
aggregate of the registry's own store, saved in the same transaction as the enterprise events that
change it, so it is never behind or ahead of them, and it needs no second database. Each index is
small (one town, one department), snapshotted, and never published. The cost is contention: two
commands touching the same index at once conflict, and the application retries the loser
(see services/backbone/conflicts.py). Listing *all* enterprises is rare and scans the log for
Enterprise.Registered, which needs no hot all-enterprises index.
"""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import HubAggregate

INDEXES = uuid.UUID("3c1e9b7a-6d2f-4e8b-9a0c-5f7d1b3e2a44")
KINDS = ("town", "industry", "department")

IndexKey = tuple[str, str]  # (kind, value), e.g. ("town", "张山子镇")


def index_id(kind: str, value: str) -> uuid.UUID:
    return uuid.uuid5(INDEXES, f"{kind}/{value}")


def keys_of(town: str, industry: str, supervisors: list[str]) -> set[IndexKey]:
    """The indexes an enterprise with this town, industry and supervisors belongs to."""
    return {("town", town), ("industry", industry)} | {("department", d) for d in supervisors}


class EnterpriseIndex(HubAggregate):
    """The ids of the enterprises sharing one town, industry or supervising department."""

    class Event(HubAggregate.Event):
        published = False

    @staticmethod
    def create_id(kind: str, value: str, **_: Any) -> uuid.UUID:
        return index_id(kind, value)

    @event("Opened")
    def __init__(self, kind: str, value: str) -> None:
        self.kind, self.value = kind, value
        # An ordered set (a dict: it survives snapshots as JSON). Each change costs what it adds or
        # removes; a sorted list re-sorted the whole index on every event, and a province-sized
        # index replays up to a snapshot interval of them on every load.
        self.members: dict[str, None] = {}

    def _set(self) -> dict[str, None]:
        if isinstance(self.members, list):  # a snapshot taken before the members became a dict
            self.members = dict.fromkeys(self.members)
        return self.members

    def change(self, added: set[str], removed: set[str]) -> None:
        members = self._set()
        added = {a for a in added if a not in members}
        removed = {r for r in removed if r in members}
        if added or removed:
            self._changed(added=sorted(added), removed=sorted(removed))

    @event("Changed")
    def _changed(self, added: list[str], removed: list[str]) -> None:
        members = self._set()
        for gone in removed:
            members.pop(gone, None)
        members.update(dict.fromkeys(added))

    def sorted_members(self) -> list[str]:
        return sorted(self._set())


class Reindexer:
    """Collects index changes of one command and turns them into one event per touched index."""

    def __init__(self, load: Any) -> None:
        self._load = load  # (kind, value) -> EnterpriseIndex | None
        self._added: dict[IndexKey, set[str]] = {}
        self._removed: dict[IndexKey, set[str]] = {}

    def move(self, enterprise: str, before: set[IndexKey], after: set[IndexKey]) -> None:
        for key in after - before:
            self._added.setdefault(key, set()).add(enterprise)
            self._removed.get(key, set()).discard(enterprise)
        for key in before - after:
            self._removed.setdefault(key, set()).add(enterprise)
            self._added.get(key, set()).discard(enterprise)

    def indexes(self) -> list[EnterpriseIndex]:
        """The touched indexes, changed (not saved)."""
        touched = []
        for key in sorted(set(self._added) | set(self._removed)):
            index = self._load(*key) or EnterpriseIndex(kind=key[0], value=key[1])
            index.change(self._added.get(key, set()), self._removed.get(key, set()))
            touched.append(index)
        return touched
