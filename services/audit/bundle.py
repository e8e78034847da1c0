"""`export`: an offline bundle proving what the hub stored about one enterprise.

    manifest.json           what is inside, each member's SM3, the hub's public key (signed: manifest.sig)
    checkpoints.json        the signed checkpoints of each store, up to the bundle's cut
    stores/<s>/chain.bin    every notification of store s up to the cut, as chain.RECORD
                            (u64 notification id, 32-byte digest, 32-byte link), in order
    stores/<s>/events.jsonl the enterprise's events in full (the digest is recomputed from them)

Other enterprises' events appear only as digests, yet every link can be recomputed from genesis to a
signed checkpoint: that is what makes the enterprise's events checkable without the hub.
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

from services.audit import chain
from services.audit.application import AuditApplication
from services.audit.checkpoint import fingerprint
from services.audit.events import AuditedEvent
from services.kernel import signatures
from services.kernel.signatures import KeyPair

BUNDLE_FORMAT = "riskhub-audit-bundle/v1"
Progress = Callable[[str, int], None]


@dataclass
class Exported:
    path: Path
    stores: dict[str, dict[str, int]] = field(default_factory=dict)
    left_out: int = 0  # events newer than the last checkpoint (not yet anchored)
    warnings: list[str] = field(default_factory=list)


def event_line(event: AuditedEvent) -> dict[str, Any]:
    n = event.notification
    state = bytes(n.state)
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
    }


def _chain_records(audit: AuditApplication, store: str, cut: int, progress: Progress | None) -> bytes:
    out, link = bytearray(), chain.genesis(store)
    for segment in audit.segments(store):
        if segment.first_id > cut:
            break
        for entry in chain.unpack_entries(segment.entries):
            if entry.notification_id > cut:
                break
            link = chain.next_link(link, entry.notification_id, entry.digest)
            out += chain.RECORD.pack(entry.notification_id, entry.digest, link)
        if progress:
            progress(store, segment.count)
    return bytes(out)


def _store_members(
    audit: AuditApplication, store: str, mine: list[AuditedEvent], result: Exported, progress: Progress | None
) -> tuple[dict[str, bytes], list[dict[str, Any]]]:
    """One store's chain records and events, cut at the first checkpoint covering its last event."""
    checkpoints = audit.checkpoints(store)
    signed_to = max((c.position for c in checkpoints), default=0)
    anchored = [e for e in mine if e.notification_id <= signed_to]
    result.left_out += len(mine) - len(anchored)
    if not anchored:
        return {}, []
    cut = min(c.position for c in checkpoints if c.position >= anchored[-1].notification_id)
    records = _chain_records(audit, store, cut, progress)
    recorded = {nid: digest for nid, digest, _ in chain.RECORD.iter_unpack(records)}
    for e in anchored:
        if recorded.get(e.notification_id) != e.digest:
            result.warnings.append(f"{store} #{e.notification_id}: stored event differs from the chain")
    lines = [json.dumps(event_line(e), ensure_ascii=False, sort_keys=True) for e in anchored]
    result.stores[store] = {"position": cut, "records": len(recorded), "events": len(anchored)}
    members = {
        f"stores/{store}/chain.bin": records,
        f"stores/{store}/events.jsonl": ("\n".join(lines) + "\n").encode(),
    }
    return members, [c.as_dict() for c in checkpoints if c.position <= cut]


def export(
    audit: AuditApplication,
    events: list[AuditedEvent],
    enterprise: str,
    keypair: KeyPair,
    out: Path,
    progress: Progress | None = None,
) -> Exported:
    """Writes the bundle of the enterprise's events (as found by timeline.history)."""
    result = Exported(out)
    members: dict[str, bytes] = {}
    all_checkpoints: dict[str, list[dict[str, Any]]] = {}
    for store in sorted({e.store for e in events}):
        mine = sorted((e for e in events if e.store == store), key=lambda e: e.notification_id)
        found, checkpoints = _store_members(audit, store, mine, result, progress)
        if found:
            members.update(found)
            all_checkpoints[store] = checkpoints
    members["checkpoints.json"] = json.dumps(all_checkpoints, ensure_ascii=False, indent=1).encode()
    manifest = {
        "format": BUNDLE_FORMAT,
        "chain": chain.CHAIN_FORMAT,
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
