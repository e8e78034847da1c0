"""The audit service's own store: each store's leaves in blocks, block roots, and signed tree heads."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from services.audit.domain import COMPLETED_TOPIC, SIGNED_TOPIC, block_id, head_id
from services.backbone import at_rest
from services.backbone.store import HubApplication
from services.kernel.tree_heads import TreeHead, head_from_message

PAGE = 500


@dataclass(frozen=True)
class Block:
    """A block as recorded: its entries (packed, in leaf order), from leaf `first_index` on."""

    store: str
    number: int
    first_index: int
    entries: bytes
    position: int  # the last notification id recorded in it
    link: bytes  # the write-time link checked up to there
    root: bytes  # its subtree root once complete, else b""


@dataclass(frozen=True)
class SignedHead:
    """A head as recorded, with the consistency proof the worker made from the store's previous one."""

    head: TreeHead
    previous_size: int
    consistency: list[bytes]


class AuditApplication(HubApplication):
    """The audit service's application. It never writes to another service's store."""

    service = "audit"

    def heads(self, store: str) -> list[SignedHead]:
        """The store's signed heads in sequence order."""
        found = [_signed(e) for e in self._events(store, SIGNED_TOPIC)]
        return sorted(found, key=lambda h: h.head.sequence)

    def head(self, store: str, sequence: int) -> SignedHead | None:
        record = self.find(head_id(store, sequence))
        return _signed(record) if record is not None else None

    def latest_head(self, store: str) -> SignedHead | None:
        """The head of the highest sequence, found by probing ids (sequences are dense): O(log n) reads
        instead of a scan of every head the store ever had."""
        if self.find(head_id(store, 0)) is None:
            return None
        low, high = 0, 1
        while self.find(head_id(store, high)) is not None:
            low, high = high, high * 2
        while high - low > 1:  # low exists, high does not
            middle = (low + high) // 2
            low, high = (middle, high) if self.find(head_id(store, middle)) is not None else (low, middle)
        return self.head(store, low)

    def block(self, store: str, number: int) -> Block | None:
        try:
            record: Any = self.repository.get(block_id(store, number))
        except AggregateNotFoundError:
            return None
        packed = b"".join(base64.b64decode(entries) for _, entries in record.parts)
        return Block(
            store,
            number,
            record.parts[0][0],
            packed,
            record.position,
            bytes.fromhex(record.link),
            bytes.fromhex(record.root),
        )

    def block_roots(self, store: str) -> list[bytes]:
        """The roots of the store's complete blocks, in order (a lean record each)."""
        found = {e.block: e.root for e in self._events(store, COMPLETED_TOPIC)}
        roots = []
        for number in range(len(found)):
            root = found.get(number)
            if root is None:
                break  # a gap: what follows cannot be placed (verify reports the records)
            roots.append(bytes.fromhex(root))
        return roots

    def seal(self, *records: Any) -> None:
        """Records blocks and a head in one transaction."""
        self.save(*records)

    def _events(self, store: str, topic: str) -> list[Any]:
        # A cheap byte test first: only this store's records are decoded.
        marker = f'"store":"{store}"'.encode()
        found: list[Any] = []
        start = 0
        while page := self.recorder.select_notifications(
            start=start, limit=PAGE, topics=(topic,), inclusive_of_start=False
        ):
            found.extend(
                self.mapper.to_domain_event(n) for n in page if marker in at_rest.plain(self, n.state)
            )
            start = page[-1].id
        return found


def _signed(record: Any) -> SignedHead:
    """A head as recorded (a TreeHead aggregate or its Signed event: the same fields)."""
    consistency = [bytes.fromhex(h) for h in record.consistency]
    return SignedHead(head_from_message(record), record.previous_size, consistency)
