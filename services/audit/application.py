"""The audit service's own store: what has been chained, and the signed checkpoints."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from services.audit.checkpoint import Checkpoint
from services.audit.domain import SEALED_TOPIC, SIGNED_TOPIC, AuditCheckpoint, ChainSegment
from services.backbone.store import HubApplication

PAGE = 500


@dataclass(frozen=True)
class Segment:
    """A sealed segment as the verifier uses it (links as bytes, entries packed)."""

    store: str
    sequence: int
    first_id: int
    last_id: int
    count: int
    previous_link: bytes
    link: bytes
    entries: bytes


class AuditApplication(HubApplication):
    """The audit service's application. It never writes to another service's store."""

    service = "audit"

    def segments(self, store: str) -> list[Segment]:
        """The store's sealed segments in sequence order."""
        found = [
            Segment(
                store=e.store,
                sequence=e.sequence,
                first_id=e.first_id,
                last_id=e.last_id,
                count=e.count,
                previous_link=bytes.fromhex(e.previous_link),
                link=bytes.fromhex(e.link),
                entries=base64.b64decode(e.entries),
            )
            for e in self._events(store, SEALED_TOPIC)
        ]
        return sorted(found, key=lambda s: s.sequence)

    def checkpoints(self, store: str) -> list[Checkpoint]:
        """The store's signed checkpoints in sequence order."""
        found = [
            Checkpoint(
                store=e.store,
                sequence=e.sequence,
                position=e.position,
                events=e.events,
                link=e.link,
                signed_at=e.signed_at,
                public_key=e.public_key,
                signature=e.signature,
            )
            for e in self._events(store, SIGNED_TOPIC)
        ]
        return sorted(found, key=lambda c: c.sequence)

    def seal(self, segment: ChainSegment | None, checkpoint: AuditCheckpoint | None) -> None:
        """Records a segment and/or a checkpoint in one transaction."""
        self.save(*[a for a in (segment, checkpoint) if a is not None])

    def _events(self, store: str, topic: str) -> list[Any]:
        # A cheap byte test first: only this store's records are decoded.
        marker = f'"store":"{store}"'.encode()
        found: list[Any] = []
        start = 0
        while page := self.recorder.select_notifications(
            start=start, limit=PAGE, topics=(topic,), inclusive_of_start=False
        ):
            found.extend(self.mapper.to_domain_event(n) for n in page if marker in n.state)
            start = page[-1].id
        return found
