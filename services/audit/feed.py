"""The event feed behind StreamEvents: every store merged in time order, filtered, resumable."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import Notification

from services.audit.events import AuditedEvent, Concerns, scan
from services.audit.stores import BEFORE_ALL
from services.backbone.envelope import split_topic
from services.backbone.errors import ValidationError
from services.backbone.store import HubApplication


@dataclass(frozen=True)
class EventFilter:
    enterprise: UUID | None = None
    types: frozenset[str] = field(default_factory=frozenset)
    since: datetime | None = None
    until: datetime | None = None

    def admits_time(self, event: AuditedEvent) -> bool:
        return (self.since is None or event.occurred_at >= self.since) and (
            self.until is None or event.occurred_at <= self.until
        )


def parse_cursor(text: str) -> dict[str, int]:
    """'registry=120,filing=55' → positions per store ('' → from the beginning)."""
    positions: dict[str, int] = {}
    for part in filter(None, text.split(",")[:32]):
        store, _, position = part.partition("=")
        if not (store and position.isascii() and position.isdigit() and len(position) <= 18):
            raise ValidationError("cursor", "not a cursor this service returned")
        positions[store] = int(position)
    return positions


def format_cursor(positions: dict[str, int]) -> str:
    return ",".join(f"{store}={position}" for store, position in sorted(positions.items()))


def _type_of(n: Notification) -> str:
    aggregate, name = split_topic(n.topic) if ":" in n.topic else ("?", n.topic)
    return f"{aggregate}.{name}"


def feed(
    stores: dict[str, HubApplication], flt: EventFilter, cursor: dict[str, int]
) -> Iterator[tuple[AuditedEvent, str]]:
    """(event, cursor after it), oldest first across stores; each store in notification order."""
    concerns = Concerns(flt.enterprise) if flt.enterprise else None
    if concerns:
        # Aggregates that named the enterprise before the cursor still concern it after.
        for store, app in stores.items():
            if cursor.get(store, BEFORE_ALL) > BEFORE_ALL:
                for event in scan(app, store, concerns.candidate, after=BEFORE_ALL, stop=cursor[store]):
                    concerns.admit(event)

    def wanted(store: str, n: Notification) -> bool:
        if concerns is not None:  # types are checked after admit(): closure needs every event
            return concerns.candidate(store, n)
        return not flt.types or _type_of(n) in flt.types

    streams = [scan(app, store, wanted, after=cursor.get(store, BEFORE_ALL)) for store, app in stores.items()]
    positions = dict(cursor)
    for event in heapq.merge(*streams, key=lambda e: (e.occurred_at, e.store, e.notification_id)):
        positions[event.store] = event.notification_id
        if concerns and not concerns.admit(event):
            continue
        if (not flt.types or event.type in flt.types) and flt.admits_time(event):
            yield event, format_cursor(positions)
