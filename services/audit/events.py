"""Reading stored events for auditors: decoding, and deciding which events concern an enterprise."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from services.audit import chain
from services.audit.stores import BEFORE_ALL, notifications
from services.backbone import at_rest
from services.backbone.envelope import from_domain_event, split_topic
from services.backbone.store import HubApplication

NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class AuditedEvent:
    """One stored event as an auditor sees it."""

    store: str
    notification_id: int
    originator_id: str
    originator_version: int
    type: str  # "<Aggregate>.<Event>"
    occurred_at: datetime
    correlation_id: str
    enterprise_id: str | None
    payload: dict[str, Any]
    digest: bytes = field(repr=False)
    notification: Notification = field(repr=False)
    # for an encrypted store: this event's own key (at_rest.py), and its bytes as written
    event_key: bytes | None = field(default=None, repr=False)
    written: bytes | None = field(default=None, repr=False)


def decode(app: HubApplication, store: str, n: Notification) -> AuditedEvent:
    """The event with its envelope-style payload; an undecodable (tampered?) event is kept, flagged."""
    try:
        env = from_domain_event(store, n, app.mapper.to_domain_event(n), previous_id=0)
        occurred = datetime.fromisoformat(env.occurred_at)
        payload, cid, enterprise = env.payload, env.correlation_id, env.enterprise_id
    except Exception as error:  # noqa: BLE001 - the auditor must still see it
        occurred, cid, enterprise = NEVER, "", None
        payload = {"undecodable": f"{type(error).__name__}: {error}"}
    aggregate, name = split_topic(n.topic) if ":" in n.topic else ("?", n.topic)
    cipher, key, written = app.mapper.cipher, None, None
    if cipher is not None and hasattr(cipher, "event_key"):
        key = cipher.event_key(n.state)
        try:
            written = at_rest.open_event(key, bytes(n.state)) if key is not None else None
        except Exception:  # noqa: BLE001 - altered: its leaf says so; the bundle carries no content
            key = None
    return AuditedEvent(
        store=store,
        notification_id=n.id,
        originator_id=str(n.originator_id),
        originator_version=n.originator_version,
        type=f"{aggregate}.{name}",
        occurred_at=occurred,
        correlation_id=cid,
        enterprise_id=enterprise,
        payload=payload,
        digest=chain.notification_digest(n),
        notification=n,
        event_key=key,
        written=written,
    )


class Concerns:
    """Which events are about an enterprise: its own, those whose payload names it (enterprise_id,
    or enterprise), and every event of an aggregate it owns (one whose first event named it)."""

    def __init__(self, enterprise: UUID) -> None:
        self.id = str(enterprise)
        # Payload ids are stored as text or as the transcoder's hex form.
        self.needles = (self.id.encode(), enterprise.hex.encode())
        self.owned: set[tuple[str, str]] = set()

    def candidate(self, store: str, n: Notification) -> bool:
        """A cheap byte-level test before decoding."""
        oid = str(n.originator_id)
        if oid == self.id or (store, oid) in self.owned:
            return True
        state = n.state
        return any(needle in state for needle in self.needles)

    def admit(self, event: AuditedEvent) -> bool:
        key = (event.store, event.originator_id)
        if key in self.owned:
            return True
        named = {event.enterprise_id, str(event.payload.get("enterprise") or "")}
        if event.originator_id != self.id and self.id not in named:
            return False
        if event.originator_version == 1 or event.originator_id == self.id:
            self.owned.add(key)  # created about the enterprise: all its later events are too
        return True


def scan(
    app: HubApplication,
    store: str,
    wanted: Callable[[str, Notification], bool] | None = None,
    *,
    after: int = BEFORE_ALL,
    stop: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[AuditedEvent]:
    """The store's events in notification order, decoding only those `wanted` lets through (it sees
    the events' bytes as written, decrypted when the store is encrypted)."""
    encrypted = app.mapper.cipher is not None
    for page in notifications(app, after=after, stop=stop):
        for n in page:
            seen = dataclasses.replace(n, state=at_rest.plain(app, n.state)) if encrypted and wanted else n
            if wanted is None or wanted(store, seen):
                yield decode(app, store, n)
        if progress:
            progress(len(page))


def about(
    app: HubApplication, store: str, concerns: Concerns, progress: Callable[[int], None] | None = None
) -> Iterator[AuditedEvent]:
    """The store's events concerning an enterprise, in notification order."""
    for event in scan(app, store, concerns.candidate, progress=progress):
        if concerns.admit(event):
            yield event
