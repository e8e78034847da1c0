"""The hub's signed tree heads a reference platform keeps, and the checks a department makes on them.

Each head is kept (SQLite, beside the inbox) with what the platform found: CONSISTENT when its
consistency proof leads from the previous head the platform holds to it, KEPT when the platform holds
no earlier head of that store to check against, INCONSISTENT when it contradicts one (the proof fails,
another root under the same sequence, a smaller tree after a larger one, another key). The hub's audit
key is pinned at the first head (as ssh pins a host key) unless given (--hub-audit-key).

`check_against_hub` is the monitor's check a department can run at any time (as Certificate
Transparency monitors do): the hub's latest head of each store must extend the latest one held.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import grpc

from services.kernel import merkle
from services.kernel.tree_heads import TreeHead, fingerprint, head_from_message

CONSISTENT, KEPT, INCONSISTENT = "CONSISTENT", "KEPT", "INCONSISTENT"
SCHEMA = """
CREATE TABLE IF NOT EXISTS tree_heads (
    store TEXT NOT NULL, sequence INTEGER NOT NULL, tree_size INTEGER NOT NULL, root_hash TEXT NOT NULL,
    position INTEGER NOT NULL, signed_at TEXT NOT NULL, public_key TEXT NOT NULL, signature TEXT NOT NULL,
    verdict TEXT NOT NULL, detail TEXT NOT NULL, received_at TEXT NOT NULL,
    PRIMARY KEY (store, sequence, root_hash)
);
CREATE TABLE IF NOT EXISTS pinned_keys (name TEXT PRIMARY KEY, public_key TEXT NOT NULL);
"""
COLUMNS = ("store", "sequence", "tree_size", "root_hash", "position", "signed_at", "public_key", "signature")


class BadHead(ValueError):
    """Not a head the hub signed: refused, not kept."""


@dataclass(frozen=True)
class Kept:
    head: TreeHead
    verdict: str
    detail: str


class HeadStore:
    def __init__(self, path: Path, hub_key: str = "") -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()
        if hub_key:
            self._db.execute("INSERT OR REPLACE INTO pinned_keys VALUES ('hub', ?)", (hub_key.lower(),))

    def hub_key(self) -> str | None:
        row = self._db.execute("SELECT public_key FROM pinned_keys WHERE name = 'hub'").fetchone()
        return str(row[0]) if row else None

    def keep(self, head: TreeHead, previous_size: int, proof: list[bytes]) -> Kept:
        """Checks and keeps a head; the same head again gets the same answer."""
        if not head.valid():
            raise BadHead(f"{head.name}: the signature does not verify under the key it names")
        with self._lock:
            found = self._db.execute(
                "SELECT verdict, detail FROM tree_heads WHERE store = ? AND sequence = ? AND root_hash = ?",
                (head.store, head.sequence, head.root_hash),
            ).fetchone()
            if found is not None:
                return Kept(head, found[0], found[1])
            verdict, detail = self._judge(head, previous_size, proof)
            self._db.execute(
                f"INSERT INTO tree_heads ({', '.join(COLUMNS)}, verdict, detail, received_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*[getattr(head, c) for c in COLUMNS], verdict, detail, datetime.now(UTC).isoformat()),
            )
        return Kept(head, verdict, detail)

    def _judge(self, head: TreeHead, previous_size: int, proof: list[bytes]) -> tuple[str, str]:
        pinned = self.hub_key()
        if pinned is None:
            self._db.execute("INSERT INTO pinned_keys VALUES ('hub', ?)", (head.public_key.lower(),))
        elif pinned != head.public_key.lower():
            return (
                INCONSISTENT,
                f"signed by key {fingerprint(head.public_key)}; the hub's key is {fingerprint(pinned)}",
            )
        held = self.heads(head.store)
        for other in held:
            if other.sequence == head.sequence:
                return INCONSISTENT, f"another head {head.sequence} is held: root {other.root_hash[:16]}…"
            if other.sequence < head.sequence and other.tree_size > head.tree_size:
                return INCONSISTENT, f"smaller than head {other.sequence} (size {other.tree_size}): truncated"
        previous = next(
            (h for h in reversed(held) if h.tree_size == previous_size and h.sequence < head.sequence), None
        )
        if previous is None:
            return KEPT, "no earlier head of this store held to check it against"
        if merkle.verify_consistency(previous.tree_size, head.tree_size, previous.root, head.root, proof):
            return CONSISTENT, f"extends head {previous.sequence}"
        return (
            INCONSISTENT,
            f"does not extend head {previous.sequence} (size {previous.tree_size}): rewritten",
        )

    def heads(self, store: str = "") -> list[TreeHead]:
        query = f"SELECT {', '.join(COLUMNS)} FROM tree_heads"
        rows = self._db.execute(
            query + (" WHERE store = ?" if store else "") + " ORDER BY store, sequence",
            (store,) if store else (),
        )
        return [TreeHead(*row) for row in rows.fetchall()]

    def verdicts(self) -> list[tuple[TreeHead, str, str]]:
        query = f"SELECT {', '.join(COLUMNS)}, verdict, detail FROM tree_heads ORDER BY store, sequence"
        return [(TreeHead(*row[:8]), row[8], row[9]) for row in self._db.execute(query).fetchall()]

    def close(self) -> None:
        self._db.close()


def check_against_hub(store: HeadStore, address: str) -> list[tuple[str, bool, str]]:
    """For each store with a head held: does the hub's latest head extend the latest one held?
    (store, ok, what was found); a consistent latest head is kept as a new anchor."""
    from hub.v1 import audit_pb2, audit_pb2_grpc

    results = []
    channel = grpc.insecure_channel(address)
    try:
        stub = audit_pb2_grpc.TreeHeadServiceStub(channel)
        latest_held: dict[str, TreeHead] = {}
        for held in store.heads():
            if held.tree_size >= latest_held.get(held.store, held).tree_size:
                latest_held[held.store] = held
        for name, held in sorted(latest_held.items()):
            try:
                hub = head_from_message(
                    stub.GetLatestTreeHead(audit_pb2.GetLatestTreeHeadRequest(store=name), timeout=30).head
                )
                proof: list[bytes] = []
                if hub.tree_size >= held.tree_size:
                    request = audit_pb2.GetConsistencyProofRequest(
                        store=name, first_size=held.tree_size, second_size=hub.tree_size
                    )
                    proof = [bytes.fromhex(h) for h in stub.GetConsistencyProof(request, timeout=30).proof]
            except grpc.RpcError as error:
                results.append(
                    (name, False, f"the hub did not answer: {error.code().name}: {error.details()}")
                )  # type: ignore[attr-defined]
                continue
            results.append((name, *_compare(store, held, hub, proof)))
    finally:
        channel.close()
    return results


def _compare(store: HeadStore, held: TreeHead, hub: TreeHead, proof: list[bytes]) -> tuple[bool, str]:
    pinned = store.hub_key()
    if not hub.valid() or (pinned and hub.public_key.lower() != pinned):
        return False, f"the hub's {hub.name} is not signed by the pinned key"
    if hub.tree_size < held.tree_size:
        return False, f"the hub's latest {hub.name} is smaller than {held.name} held here: truncated"
    if not merkle.verify_consistency(held.tree_size, hub.tree_size, held.root, hub.root, proof):
        return False, f"the hub's {hub.name} does not extend {held.name} held here: rewritten or forked"
    kept = store.keep(hub, held.tree_size, proof) if hub.sequence != held.sequence else None
    return True, f"the hub's {hub.name} extends {held.name}" + (f" ({kept.verdict.lower()})" if kept else "")
