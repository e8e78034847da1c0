"""Extends each store's chain: seals new notifications into segments, signs checkpoints when due."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog
from eventsourcing.persistence import IntegrityError, Notification

from services.audit import chain
from services.audit.application import AuditApplication
from services.audit.checkpoint import Checkpoint
from services.audit.domain import AuditCheckpoint, ChainSegment
from services.audit.stores import notifications
from services.backbone.store import HubApplication
from services.kernel.signatures import KeyPair

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Policy:
    segment_size: int = 5000  # events per sealed segment, at most
    checkpoint_every: int = 10_000  # sign once this many events are unsigned…
    checkpoint_seconds: float = 60.0  # …or once unsigned events are this old


@dataclass
class Head:
    """Where a store's chain stands, as recorded in the audit store."""

    store: str
    next_sequence: int = 0
    position: int = 0
    link: bytes = b""
    events: int = 0
    checkpoints: int = 0
    signed_events: int = 0
    signed_at: datetime | None = None

    @classmethod
    def load(cls, audit: AuditApplication, store: str) -> Head:
        head = cls(store, link=chain.genesis(store))
        segments = audit.segments(store)
        if segments:
            last = segments[-1]
            head.next_sequence, head.position, head.link = last.sequence + 1, last.last_id, last.link
            head.events = sum(s.count for s in segments)
        checkpoints = audit.checkpoints(store)
        if checkpoints:
            head.checkpoints = checkpoints[-1].sequence + 1
            head.signed_events = checkpoints[-1].events
            head.signed_at = datetime.fromisoformat(checkpoints[-1].signed_at)
        return head


@dataclass
class Extended:
    store: str
    sealed: int = 0  # events chained by this call
    checkpoints: list[Checkpoint] = field(default_factory=list)


class Chainer:
    """Chains stores into the audit store. Safe to run twice at once: the loser of a race reloads."""

    def __init__(self, audit: AuditApplication, keypair: KeyPair, policy: Policy | None = None) -> None:
        self.audit, self.keypair, self.policy = audit, keypair, policy or Policy()
        self._heads: dict[str, Head] = {}

    def head(self, store: str) -> Head:
        if store not in self._heads:
            self._heads[store] = Head.load(self.audit, store)
        return self._heads[store]

    def extend(self, store: str, source: HubApplication, checkpoint_now: bool = False) -> Extended:
        """Seals every notification after the head; signs a checkpoint when due (or now)."""
        result = Extended(store)
        try:
            self._extend(self.head(store), source, result, checkpoint_now)
        except IntegrityError:
            # Another chainer sealed the same sequence first: start again from what it recorded.
            self._heads.pop(store, None)
            log.info("audit_chain_race_lost", store=store)
        except Exception:
            self._heads.pop(store, None)  # the head in memory may be ahead of what was saved
            raise
        return result

    def _extend(self, head: Head, source: HubApplication, result: Extended, checkpoint_now: bool) -> None:
        size = self.policy.segment_size
        for page in notifications(source, after=head.position, page=size):
            segment = self._segment(head, page)
            checkpoint = self._checkpoint(head) if self._due(head) else None
            self.audit.seal(segment, AuditCheckpoint(**checkpoint.as_dict()) if checkpoint else None)
            result.sealed += len(page)
            if checkpoint is not None:
                result.checkpoints.append(self._signed(head, checkpoint))
        if (checkpoint_now or self._due(head, by_time=True)) and head.events > head.signed_events:
            checkpoint = self._checkpoint(head)
            self.audit.seal(None, AuditCheckpoint(**checkpoint.as_dict()))
            result.checkpoints.append(self._signed(head, checkpoint))

    def _segment(self, head: Head, page: list[Notification]) -> ChainSegment:
        entries, link = [], head.link
        for n in page:
            digest = chain.notification_digest(n)
            link = chain.next_link(link, n.id, digest)
            entries.append(chain.entry_bytes(n, digest))
        segment = ChainSegment(
            store=head.store,
            sequence=head.next_sequence,
            first_id=page[0].id,
            last_id=page[-1].id,
            count=len(page),
            previous_link=head.link.hex(),
            link=link.hex(),
            entries=base64.b64encode(b"".join(entries)).decode("ascii"),
        )
        head.next_sequence += 1
        head.position, head.link, head.events = page[-1].id, link, head.events + len(page)
        return segment

    def _due(self, head: Head, by_time: bool = False) -> bool:
        unsigned = head.events - head.signed_events
        if unsigned >= self.policy.checkpoint_every:
            return True
        if not by_time or unsigned <= 0:
            return False
        age = (datetime.now(UTC) - head.signed_at).total_seconds() if head.signed_at else None
        return age is None or age >= self.policy.checkpoint_seconds

    def _checkpoint(self, head: Head) -> Checkpoint:
        return Checkpoint(
            store=head.store,
            sequence=head.checkpoints,
            position=head.position,
            events=head.events,
            link=head.link.hex(),
            signed_at=datetime.now(UTC).isoformat(),
            public_key=self.keypair.public_key_hex,
        ).signed(self.keypair.private_key_hex)

    def _signed(self, head: Head, checkpoint: Checkpoint) -> Checkpoint:
        head.checkpoints += 1
        head.signed_events = checkpoint.events
        head.signed_at = datetime.fromisoformat(checkpoint.signed_at)
        log.info("audit_checkpoint_signed", store=head.store, position=checkpoint.position)
        return checkpoint
