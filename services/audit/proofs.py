"""Proofs from the audit store's records: inclusion of one event, consistency between two heads.

Both need only the roots of complete blocks (a lean record each) and the leaves of the one or two
blocks the proof passes through, never the whole log. Whatever the records say, a proof is checked
against a signed head: a wrong record gives a proof that fails, never a false one that passes.
"""

from __future__ import annotations

import base64
import bisect
from dataclasses import dataclass
from typing import Any

from services.audit import chain, domain
from services.audit.application import AuditApplication
from services.backbone.store import HubApplication
from services.kernel import merkle
from services.kernel.tree_heads import TreeHead

PROOF_FORMAT = "riskhub-inclusion-proof/v1"


class ProofError(LookupError):
    """No proof can be made: the event is not (yet) in a signed tree, or does not match its leaf."""


class RecordedTree:
    """A store's tree as the audit store recorded it; blocks are read once and kept."""

    def __init__(self, audit: AuditApplication, store: str) -> None:
        self.audit, self.store = audit, store
        self.roots = audit.block_roots(store)
        self._blocks: dict[int, Any] = {}
        self._leaves: dict[int, list[bytes]] = {}
        self._index: dict[int, dict[int, int]] = {}  # block → notification id → its place in the block
        self._memo: dict[tuple[int, int], bytes] = {}

    def block(self, number: int) -> Any:
        if number not in self._blocks:
            self._blocks[number] = self.audit.block(self.store, number)
        return self._blocks[number]

    def leaves(self, number: int) -> list[bytes]:
        if number not in self._leaves:
            found = self.block(number)
            self._leaves[number] = chain.leaf_hashes(found.entries) if found is not None else []
        return self._leaves[number]

    def tree(self, size: int) -> merkle.Tree:
        return merkle.Tree(size, domain.BLOCK, self.roots, self.leaves, self._memo)

    def locate(self, notification_id: int, size: int) -> tuple[int, bytes]:
        """(leaf index, entry) of the event within the first `size` leaves."""
        blocks = (size + domain.BLOCK - 1) // domain.BLOCK

        def first_id(number: int) -> int:
            found = self.block(number)
            return int(chain.ENTRY.unpack_from(found.entries, 0)[0]) if found is not None else 2**63

        number = bisect.bisect_right(range(blocks), notification_id, key=first_id) - 1
        found = self.block(number) if number >= 0 else None
        if found is not None:
            if number not in self._index:
                ids = (nid for nid, *_ in chain.ENTRY.iter_unpack(found.entries))
                self._index[number] = {nid: i for i, nid in enumerate(ids)}
            i = self._index[number].get(notification_id)
            if i is not None and found.first_index + i < size:
                size_ = chain.ENTRY.size
                return found.first_index + i, found.entries[i * size_ : (i + 1) * size_]
        raise ProofError(f"{self.store} #{notification_id} is not in the tree of size {size}")


def consistency(audit: AuditApplication, store: str, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[second]) from the records (both sizes no larger than the latest head's)."""
    latest = audit.latest_head(store)
    if latest is None or not 0 <= first <= second <= latest.head.tree_size:
        raise ProofError(f"{store}: no signed tree of size {second}")
    return RecordedTree(audit, store).tree(second).consistency(first, second)


@dataclass(frozen=True)
class InclusionProof:
    """One event, its leaf's place in a signed tree, and the path from it to the root."""

    store: str
    event: dict[str, Any]
    leaf_index: int
    tree_head: TreeHead
    audit_path: list[bytes]

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": PROOF_FORMAT,
            "store": self.store,
            "event": self.event,
            "leaf_index": self.leaf_index,
            "tree_head": self.tree_head.as_dict(),
            "audit_path": [h.hex() for h in self.audit_path],
        }


def prove(
    audit: AuditApplication,
    source: HubApplication,
    store: str,
    notification_id: int,
    sequence: int | None = None,
    recorded: RecordedTree | None = None,
    head: TreeHead | None = None,
) -> InclusionProof:
    """The inclusion proof of a stored event in the store's latest signed head (or head `sequence`).
    A prover of many events passes the same `recorded` tree and `head` (blocks are read once)."""
    if head is not None:
        return _prove(source, store, notification_id, head, recorded or RecordedTree(audit, store))
    signed = audit.latest_head(store) if sequence is None else audit.head(store, sequence)
    if signed is None:
        raise ProofError(f"{store}: no signed head" + (f" {sequence}" if sequence is not None else ""))
    return _prove(source, store, notification_id, signed.head, recorded or RecordedTree(audit, store))


def _prove(
    source: HubApplication, store: str, notification_id: int, head: TreeHead, recorded: RecordedTree
) -> InclusionProof:
    found = source.recorder.select_notifications(start=notification_id, limit=1, stop=notification_id)
    if not found:
        raise ProofError(f"{store} #{notification_id}: no such event in the store")
    n = found[0]
    index, entry = recorded.locate(notification_id, head.tree_size)
    if chain.entry_bytes(n, chain.notification_digest(n)) != entry:
        raise ProofError(f"{store} #{notification_id}: the stored event differs from its leaf (run verify)")
    return InclusionProof(store, event_of(n), index, head, recorded.tree(head.tree_size).inclusion(index))


def event_of(n: Any) -> dict[str, Any]:
    """The stored event as a proof carries it: every field its leaf covers, the state as base64."""
    state = n.state if isinstance(n.state, bytes) else str(n.state).encode("utf-8")
    return {
        "notification_id": n.id,
        "originator_id": str(n.originator_id),
        "originator_version": n.originator_version,
        "topic": n.topic,
        "state": base64.b64encode(state).decode("ascii"),
    }
