"""The read model's copy of the audit's signed tree heads (audit.events, TreeHead.Signed).

The audit worker signs a head of a store's Merkle tree (its size, its root, the last notification id
it covers) and publishes it; the console keeps every head it receives, as the departments keep theirs.
They are the console's own anchors: a record of what the hub signed, outside the audit's store.
"""

from __future__ import annotations

from typing import Any

from console.readmodel.work import ViewWork
from services.backbone.envelope import Envelope
from services.backbone.handlers import Handlers

UPSTREAM = "audit"
SIGNED = "TreeHead.Signed"
INSERT = (
    "INSERT INTO @tree_heads (store, sequence, tree_size, position, root_hash, signed_at, public_key, "
    "signature, previous_size) VALUES (%(store)s, %(sequence)s, %(tree_size)s, %(position)s, "
    "%(root_hash)s, %(signed_at)s, %(public_key)s, %(signature)s, %(previous_size)s) "
    "ON CONFLICT (store, sequence) DO NOTHING"
)


def head_row(head: dict[str, Any]) -> dict[str, Any]:
    """A head's columns, from the event's payload (or a TreeHead message's fields)."""
    return {
        "store": str(head["store"]),
        "sequence": int(head["sequence"]),
        "tree_size": int(head["tree_size"]),
        "position": int(head["position"]),
        "root_hash": str(head.get("root_hash", "")),
        "signed_at": str(head.get("signed_at", "")),
        "public_key": str(head.get("public_key", "")),
        "signature": str(head.get("signature", "")),
        "previous_size": int(head.get("previous_size") or 0),
    }


def head_signed(uow: ViewWork, envelope: Envelope) -> None:
    uow.run(INSERT, **head_row(envelope.payload))


def register(handlers: Handlers) -> None:
    handlers.on(UPSTREAM, SIGNED)(head_signed)
