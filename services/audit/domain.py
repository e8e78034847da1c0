"""The audit service's own records: each store's leaves in blocks (internal), and signed tree heads
(published, so that every department and the town office holds anchors the hub cannot rewrite)."""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import HubAggregate

AUDIT_IDS = uuid.UUID("a7d3c1f0-5b2e-4c8a-9e61-3f0d2b7c9a45")
BLOCK = 4096  # leaves per block: a power of 2, so that a full block is one subtree of the Merkle tree


def block_id(store: str, block: int) -> uuid.UUID:
    return uuid.uuid5(AUDIT_IDS, f"{store}/block/{block}")


def head_id(store: str, sequence: int) -> uuid.UUID:
    return uuid.uuid5(AUDIT_IDS, f"{store}/head/{sequence}")


class LeafBlock(HubAggregate):
    """Leaves [block × BLOCK, (block + 1) × BLOCK) of a store's tree, appended as heads are signed.

    Each append also records the write-time link it was checked up to, so the worker resumes there.
    Ids derive from (store, block): two workers racing cannot both start a block."""

    class Event(HubAggregate.Event):
        published = False  # bulky, and only the audit service needs it

    @staticmethod
    def create_id(store: str, block: int, **_: Any) -> uuid.UUID:
        return block_id(store, block)

    @event("Started")
    def __init__(
        self, store: str, block: int, first_index: int, entries: str, position: int, link: str
    ) -> None:
        self.store, self.block = store, block
        self.parts: list[tuple[int, str]] = [(first_index, entries)]  # (first leaf index, base64 entries)
        self.position, self.link, self.root = position, link, ""

    @event("Appended")
    def append(self, first_index: int, entries: str, position: int, link: str) -> None:
        self.parts.append((first_index, entries))
        self.position, self.link = position, link

    @event("Completed")
    def complete(self, store: str, block: int, root: str) -> None:
        """Every leaf of the block is in: its subtree root (a lean record, read for every proof)."""
        self.root = root


class TreeHead(HubAggregate):
    """A signed tree head of one store, with the consistency proof from the store's previous head."""

    @staticmethod
    def create_id(store: str, sequence: int, **_: Any) -> uuid.UUID:
        return head_id(store, sequence)

    @event("Signed")
    def __init__(
        self,
        store: str,
        sequence: int,
        tree_size: int,
        root_hash: str,
        position: int,
        signed_at: str,
        public_key: str,
        signature: str,
        previous_size: int,
        consistency: list[str],
    ) -> None:
        self.store, self.sequence, self.tree_size, self.root_hash = store, sequence, tree_size, root_hash
        self.position, self.signed_at, self.public_key, self.signature = (
            position,
            signed_at,
            public_key,
            signature,
        )
        self.previous_size, self.consistency = previous_size, consistency


COMPLETED_TOPIC = f"{__name__}:LeafBlock.Completed"
SIGNED_TOPIC = f"{__name__}:TreeHead.Signed"
