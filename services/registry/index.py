"""Internal indexes of enterprises by town, industry and supervising department.

Why index aggregates, not a scan of the notification log: the registry must list a town's or a
department's enterprises on every routing change and for later services (filing fan-out, the monthly
report), and a log scan costs every event ever stored, growing without bound. An index is an
aggregate of the registry's own store, saved in the same transaction as the enterprise events that
change it, so it is never behind or ahead of them, and it needs no second database. Each index is
snapshotted and never published. Listing *all* enterprises is rare and scans the log for
Enterprise.Registered, which needs no hot all-enterprises index.

Each (kind, value) is split into SHARDS aggregates by a hash of the enterprise id. One index of a
province's safety bureau would hold 100,000 members: every registration would load (decode a
snapshot of) all of them, and every concurrent registration would conflict on it. A shard holds a
32nd, and two registrations collide only when they land on the same shard (the loser is retried, see
services/backbone/conflicts.py). Listing reads every shard: listings are rare (routing changes,
queries); registrations are not. An index stored before the split (shard None) is still read, and
an enterprise is taken out of it when it moves.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import CheapCopies, HubAggregate

INDEXES = uuid.UUID("3c1e9b7a-6d2f-4e8b-9a0c-5f7d1b3e2a44")
KINDS = ("town", "industry", "department")
SHARDS = 32

IndexKey = tuple[str, str]  # (kind, value), e.g. ("town", "张山子镇")
Shard = int | None  # None: an index stored before the split
Loader = Callable[[str, str, Shard], "EnterpriseIndex | None"]
# Several shards read at once (one query for all instead of one each): (kind, value, shard) → index.
ManyLoader = Callable[[list[tuple[str, str, Shard]]], dict[tuple[str, str, Shard], "EnterpriseIndex"]]


def index_id(kind: str, value: str, shard: Shard = None) -> uuid.UUID:
    return uuid.uuid5(INDEXES, f"{kind}/{value}" if shard is None else f"{kind}/{value}#{shard}")


def shard_of(enterprise: str) -> int:
    """The shard an enterprise's entries live in: stable across processes (not Python's hash())."""
    return zlib.crc32(enterprise.encode("utf-8")) % SHARDS


def every_shard() -> Iterable[Shard]:
    return (None, *range(SHARDS))


def keys_of(town: str, industry: str, supervisors: list[str]) -> set[IndexKey]:
    """The indexes an enterprise with this town, industry and supervisors belongs to."""
    return {("town", town), ("industry", industry)} | {("department", d) for d in supervisors}


class EnterpriseIndex(CheapCopies, HubAggregate):
    """The ids of the enterprises sharing one town, industry or supervising department."""

    flat = ("members",)  # ids (a dict; a list in old snapshots): copied whole for each command

    class Event(HubAggregate.Event):
        published = False

    @staticmethod
    def create_id(kind: str, value: str, shard: Shard = None, **_: Any) -> uuid.UUID:
        return index_id(kind, value, shard)

    @event("Opened")
    def __init__(self, kind: str, value: str, shard: Shard = None) -> None:
        self.kind, self.value, self.shard = kind, value, shard
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


class Reindexer:
    """Collects index changes of one command and turns them into one event per touched shard."""

    def __init__(self, load: Loader, load_many: ManyLoader | None = None) -> None:
        self._load = load
        self._load_many = load_many
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
        """The touched shards (and pre-split indexes an enterprise leaves), changed, not saved."""
        added: dict[tuple[str, str, Shard], set[str]] = {}
        removed: dict[tuple[str, str, Shard], set[str]] = {}
        for (kind, value), members in self._added.items():
            for member in members:
                added.setdefault((kind, value, shard_of(member)), set()).add(member)
        for (kind, value), members in self._removed.items():
            for member in members:
                removed.setdefault((kind, value, shard_of(member)), set()).add(member)
            if members:
                removed[(kind, value, None)] = set(members)
        touched = []
        keys = sorted(set(added) | set(removed), key=lambda k: (k[0], k[1], -1 if k[2] is None else k[2]))
        loaded = self._load_many(keys) if self._load_many is not None else None
        for key in keys:
            index = loaded.get(key) if loaded is not None else self._load(*key)
            if index is None:
                if key[2] is None or key not in added:
                    continue  # nothing to take out of an index that does not exist
                index = EnterpriseIndex(kind=key[0], value=key[1], shard=key[2])
            index.change(added.get(key, set()), removed.get(key, set()))
            if index.pending_events:
                touched.append(index)
        return touched


def members_of(load: Loader, kind: str, value: str) -> list[str]:
    """Every member of (kind, value), read from all its shards, sorted."""
    found: set[str] = set()
    for shard in every_shard():
        index = load(kind, value, shard)
        if index is not None:
            found.update(index.members)
    return sorted(found)
