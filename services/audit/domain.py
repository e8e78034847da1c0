"""The audit service's own records: sealed chain segments (internal) and signed checkpoints (published)."""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import HubAggregate

AUDIT_IDS = uuid.UUID("a7d3c1f0-5b2e-4c8a-9e61-3f0d2b7c9a45")


def segment_id(store: str, sequence: int) -> uuid.UUID:
    return uuid.uuid5(AUDIT_IDS, f"{store}/segment/{sequence}")


def checkpoint_id(store: str, sequence: int) -> uuid.UUID:
    return uuid.uuid5(AUDIT_IDS, f"{store}/checkpoint/{sequence}")


class ChainSegment(HubAggregate):
    """A run of a store's notifications as chained: each event's id, originator and digest.

    Ids are derived from (store, sequence), so two chainers racing cannot both seal a segment."""

    class Event(HubAggregate.Event):
        published = False  # bulky, and only the audit service needs it

    @staticmethod
    def create_id(store: str, sequence: int, **_: Any) -> uuid.UUID:
        return segment_id(store, sequence)

    @event("Sealed")
    def __init__(
        self,
        store: str,
        sequence: int,
        first_id: int,
        last_id: int,
        count: int,
        previous_link: str,
        link: str,
        entries: str,  # base64 of chain.ENTRY records
    ) -> None:
        self.store, self.sequence = store, sequence
        self.first_id, self.last_id, self.count = first_id, last_id, count
        self.previous_link, self.link, self.entries = previous_link, link, entries


class AuditCheckpoint(HubAggregate):
    """A store's chain link at a position, signed with the hub's SM2 audit key. Published, so
    departments and the town office hold anchors the hub cannot rewrite."""

    @staticmethod
    def create_id(store: str, sequence: int, **_: Any) -> uuid.UUID:
        return checkpoint_id(store, sequence)

    @event("Signed")
    def __init__(
        self,
        store: str,
        sequence: int,
        position: int,
        events: int,
        link: str,
        signed_at: str,
        public_key: str,
        signature: str,
    ) -> None:
        self.store, self.sequence, self.position, self.events = store, sequence, position, events
        self.link, self.signed_at = link, signed_at
        self.public_key, self.signature = public_key, signature


SEALED_TOPIC = f"{__name__}:ChainSegment.Sealed"
SIGNED_TOPIC = f"{__name__}:AuditCheckpoint.Signed"
