"""An enterprise's history across every store, and its state as it was at a moment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Repository

from services.audit import chain
from services.audit.application import AuditApplication
from services.audit.events import AuditedEvent, Concerns, about
from services.audit.verify import recorded_entries
from services.backbone.envelope import jsonable
from services.backbone.store import HubApplication

Progress = Callable[[str, int], None]


def history(
    stores: dict[str, HubApplication], enterprise: UUID, progress: Progress | None = None
) -> list[AuditedEvent]:
    """Every stored event about the enterprise, in time order (store and position break ties)."""
    found: list[AuditedEvent] = []
    for store, app in stores.items():
        tick = (lambda n, s=store: progress(s, n)) if progress else None
        found.extend(about(app, store, Concerns(enterprise), tick))
    return sorted(found, key=lambda e: (e.occurred_at, e.store, e.notification_id))


@dataclass(frozen=True)
class AggregateState:
    """One aggregate as it was: rebuilt from its events up to `version`."""

    store: str
    aggregate_id: str
    aggregate_type: str
    version: int
    last_event_at: datetime
    state: dict[str, Any]


def state_as_of(
    stores: dict[str, HubApplication],
    enterprise: UUID,
    as_of: datetime,
    progress: Progress | None = None,
    events: list[AuditedEvent] | None = None,
) -> list[AggregateState]:
    """Every aggregate about the enterprise, replayed from its events with timestamp ≤ as_of
    (no snapshots: only the chained events count)."""
    found = history(stores, enterprise, progress) if events is None else events
    # Aggregates the enterprise owns (their first event is about it); shared ones (an index, a
    # report) are in the history where they name the enterprise, but their state is not its state.
    owned = {(e.store, e.originator_id) for e in found if e.originator_version == 1}
    last: dict[tuple[str, str], AuditedEvent] = {}
    for event in found:
        key = (event.store, event.originator_id)
        if event.occurred_at > as_of or key not in owned:
            continue
        if key not in last or event.originator_version > last[key].originator_version:
            last[key] = event
    states = []
    for (store, aggregate_id), event in sorted(last.items()):
        repository: Repository[UUID] = Repository(stores[store].events)  # events only, no snapshots
        aggregate: Any = repository.get(UUID(aggregate_id), version=event.originator_version)
        states.append(
            AggregateState(
                store=store,
                aggregate_id=aggregate_id,
                aggregate_type=type(aggregate).__name__,
                version=aggregate.version,
                last_event_at=event.occurred_at,
                state={k: jsonable(v) for k, v in vars(aggregate).items() if not k.startswith("_")},
            )
        )
    return states


def chain_status(audit: AuditApplication, events: list[AuditedEvent]) -> dict[tuple[str, int], str]:
    """Per event: signed (its leaf is in the latest signed head, as stored), ALTERED (the stored event
    differs from its leaf), INSERTED (within the signed range, but no leaf), or unsigned (newer than
    the latest head)."""
    status: dict[tuple[str, int], str] = {}
    for store in sorted({e.store for e in events}):
        wanted = {e.notification_id: e for e in events if e.store == store}
        latest = audit.latest_head(store)
        signed = latest.head.position if latest else 0
        recorded = {
            entry[0]: entry
            for entry in chain.ENTRY.iter_unpack(recorded_entries(audit, store))
            if entry[0] in wanted
        }
        for nid, event in wanted.items():
            if nid > signed:
                status[(store, nid)] = "unsigned"
            elif nid not in recorded:
                status[(store, nid)] = "INSERTED"
            elif chain.ENTRY.pack(*recorded[nid]) != chain.entry_bytes(event.notification, event.digest):
                status[(store, nid)] = "ALTERED"
            else:
                status[(store, nid)] = "signed"
    return status
