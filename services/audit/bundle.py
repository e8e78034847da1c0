"""`export`: an offline bundle proving what the hub stored about one enterprise, and that nothing of it
is missing.

    manifest.json            what is inside, each member's SM3, the hub's public key (signed: manifest.sig)
    heads.json               per store: the bundle's signed head, and anchor heads each with the
                             consistency proof from it to the bundle's head (RFC 9162 §2.1.4)
    stores/<s>/leaves.bin    every leaf input of store s up to the head (chain.ENTRY, 64 bytes each)
    stores/<s>/events.jsonl  the enterprise's events in full (their leaves are recomputed from them; an
                             encrypted store's event also carries its own key and its bytes as written)

Other enterprises' events appear only as leaf inputs (position, aggregate id and version, digest):
the verifier recomputes the signed root from all of them, so no event can be missing, added or
changed in the range; and every leaf of an aggregate the manifest names must come with its event,
so none of the enterprise's events can be left out.
"""

from __future__ import annotations

import base64
import json
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.audit import chain, domain
from services.audit.application import AuditApplication
from services.audit.events import AuditedEvent
from services.audit.proofs import RecordedTree
from services.kernel import signatures
from services.kernel.signatures import KeyPair
from services.kernel.tree_heads import TreeHead, fingerprint

BUNDLE_FORMAT = "riskhub-audit-bundle/v2"
Progress = Callable[[str, int], None]


@dataclass
class Exported:
    path: Path
    stores: dict[str, dict[str, int]] = field(default_factory=dict)
    left_out: int = 0  # events newer than the store's latest signed head
    warnings: list[str] = field(default_factory=list)


def event_line(event: AuditedEvent) -> dict[str, Any]:
    n = event.notification
    state = n.state if isinstance(n.state, bytes) else str(n.state).encode("utf-8")
    try:
        text, encoding = state.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(state).decode("ascii"), "base64"
    return {
        "notification_id": n.id,
        "originator_id": str(n.originator_id),
        "originator_id_type": "uuid" if isinstance(n.originator_id, uuid.UUID) else "text",
        "originator_version": n.originator_version,
        "topic": n.topic,
        "state": text,
        "state_encoding": encoding,
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat(),
        # an encrypted store's event: its own key, so the offline check reads and authenticates it
        **(
            {"event_key": event.event_key.hex(), "written": (event.written or b"").decode("utf-8", "replace")}
            if event.event_key is not None
            else {}
        ),
    }


def log_spaced(heads: list[TreeHead]) -> list[TreeHead]:
    """The heads before the latest at distances 1, 2, 4 … back, and the first: a few anchors that
    stand for all of them (each carries its own proof)."""
    chosen, step = [], 1
    while len(heads) - 1 - step >= 0:
        chosen.append(heads[len(heads) - 1 - step])
        step *= 2
    if heads[:-1] and heads[0] not in chosen:
        chosen.append(heads[0])
    return sorted(chosen, key=lambda h: h.sequence)


def _store_members(
    audit: AuditApplication,
    store: str,
    mine: list[AuditedEvent],
    anchors: list[TreeHead],
    result: Exported,
) -> tuple[dict[str, bytes], dict[str, Any]]:
    """One store's leaves, events and heads, cut at its latest signed head."""
    latest = audit.latest_head(store)
    if latest is None:
        result.left_out += len(mine)
        return {}, {}
    head = latest.head
    anchored = [e for e in mine if e.notification_id <= head.position]
    result.left_out += len(mine) - len(anchored)
    recorded = RecordedTree(audit, store)
    blocks = [recorded.block(n) for n in range(-(-head.tree_size // domain.BLOCK))]
    leaves = b"".join(b.entries for b in blocks if b is not None)[: head.tree_size * chain.ENTRY.size]
    by_id = {chain.ENTRY.unpack_from(leaves, i)[0]: leaves[i : i + 64] for i in range(0, len(leaves), 64)}
    for e in anchored:
        if by_id.get(e.notification_id) != chain.entry_bytes(e.notification, e.digest):
            result.warnings.append(f"{store} #{e.notification_id}: the stored event differs from its leaf")
    tree = recorded.tree(head.tree_size)
    given = [a for a in anchors if a.store == store and a.tree_size <= head.tree_size]
    chosen = given or log_spaced([h.head for h in audit.heads(store) if h.head.tree_size <= head.tree_size])
    # The enterprise's own aggregates (created about it: their first event is in its history) come
    # whole, and the check demands every leaf of them. Shared ones (a town's ledger, an index) appear
    # only where they name the enterprise: their other events are other enterprises'.
    owned = {e.originator_id for e in anchored if e.originator_version == 1}
    aggregates: dict[str, int] = {}
    for e in anchored:
        if e.originator_id in owned:
            aggregates[e.originator_id] = aggregates.get(e.originator_id, 0) + 1
    lines = [json.dumps(event_line(e), ensure_ascii=False, sort_keys=True) for e in anchored]
    result.stores[store] = {"tree_size": head.tree_size, "events": len(anchored), "anchors": len(chosen)}
    members = {
        f"stores/{store}/leaves.bin": leaves,
        f"stores/{store}/events.jsonl": ("\n".join(lines) + "\n").encode() if lines else b"",
    }
    heads = {
        "head": head.as_dict(),
        "anchors": [
            {
                "head": a.as_dict(),
                "consistency": [h.hex() for h in tree.consistency(a.tree_size, head.tree_size)],
            }
            for a in chosen
        ],
        "aggregates": aggregates,
    }
    return members, heads


def export(
    audit: AuditApplication,
    events: list[AuditedEvent],
    enterprise: str,
    keypair: KeyPair,
    out: Path,
    anchors: list[TreeHead] | None = None,
) -> Exported:
    """Writes the bundle of the enterprise's events (as found by timeline.history)."""
    result = Exported(out)
    members: dict[str, bytes] = {}
    all_heads: dict[str, Any] = {}
    for store in sorted({e.store for e in events}):
        mine = sorted((e for e in events if e.store == store), key=lambda e: e.notification_id)
        found, heads = _store_members(audit, store, mine, anchors or [], result)
        if found:
            members.update(found)
            all_heads[store] = heads
    members["heads.json"] = json.dumps(all_heads, ensure_ascii=False, indent=1).encode()
    manifest = {
        "format": BUNDLE_FORMAT,
        "log": chain.LOG_FORMAT,
        "enterprise_id": enterprise,
        "exported_at": datetime.now(UTC).isoformat(),
        "public_key": keypair.public_key_hex,
        "public_key_fingerprint": fingerprint(keypair.public_key_hex),
        "stores": result.stores,
        "members": {name: chain.sm3(data).hex() for name, data in sorted(members.items())},
    }
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("manifest.json", manifest_bytes)
        bundle.writestr("manifest.sig", signatures.sign(keypair.private_key_hex, manifest_bytes))
        for name, data in sorted(members.items()):
            bundle.writestr(name, data)
    return result
