"""`verify-bundle`: checks an exported bundle with nothing but the file (no database, no broker).

    python -m services.audit.offline bundle.zip [--public-key HEX] [--anchors DIR]

Pin the hub's audit public key (`hubctl audit key`, or the key a department's anchors name): without a
pin the bundle is checked against the key it names, which proves integrity, not origin. With the
anchors a department kept (`hubctl platform heads CODE --out DIR`), the bundle must also agree with
every one of them: a log rewritten, truncated or forked below an anchor fails.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.audit import chain
from services.audit.anchors import from_folder
from services.backbone import at_rest
from services.backbone.envelope import split_topic
from services.kernel import merkle, signatures
from services.kernel.tree_heads import Anchor, TreeHead, fingerprint

FIXED = {"manifest.json", "manifest.sig"}


@dataclass
class BundleReport:
    enterprise_id: str = ""
    fingerprint: str = ""
    pinned: bool = False
    anchors: int = 0  # outside anchors held against the bundle
    stores: dict[str, dict[str, int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_bundle(
    path: str,
    public_key: str | None = None,
    progress: Callable[[int], None] | None = None,
    anchors: list[Anchor] | None = None,
) -> BundleReport:
    report = BundleReport(pinned=public_key is not None, anchors=len(anchors or []))
    try:
        with zipfile.ZipFile(path) as bundle:
            members = {name: bundle.read(name) for name in bundle.namelist()}
        manifest = json.loads(members["manifest.json"])
        signature = members["manifest.sig"].decode("ascii").strip()
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, ValueError) as error:
        report.problems.append(f"not a readable bundle: {error}")
        return report
    key = public_key or str(manifest.get("public_key", ""))
    report.enterprise_id = str(manifest.get("enterprise_id", ""))
    try:
        report.fingerprint = fingerprint(key)
    except ValueError:
        report.problems.append("public key: not hex")
        return report
    if not signatures.verify(key, members["manifest.json"], signature):
        report.problems.append("manifest: not signed by the hub's audit key")
    listed = dict(manifest.get("members", {}))
    for name in sorted(set(members) - FIXED - set(listed)):
        report.problems.append(f"{name}: not listed in the manifest")
    for name, digest in sorted(listed.items()):
        if name not in members:
            report.problems.append(f"{name}: listed in the manifest but missing")
        elif chain.sm3(members[name]).hex() != digest:
            report.problems.append(f"{name}: content differs from the manifest's digest")
    try:
        heads = json.loads(members.get("heads.json", b"{}"))
    except ValueError as error:
        report.problems.append(f"heads.json: unreadable ({error})")
        heads = {}
    for store, info in sorted(dict(manifest.get("stores", {})).items()):
        report.stores[store] = dict(info)
        outside = [a for a in anchors or [] if a.head.store == store]
        report.problems += _verify_store(store, members, heads.get(store) or {}, key, outside, progress)
    return report


def _verify_store(
    store: str,
    members: dict[str, bytes],
    heads: dict[str, Any],
    key: str,
    outside: list[Anchor],
    progress: Callable[[int], None] | None,
) -> list[str]:
    try:
        head = TreeHead.from_dict(heads["head"])
    except (KeyError, TypeError, ValueError):
        return [f"{store}: heads.json has no head"]
    problems = (
        []
        if head.valid_for(key) and head.store == store
        else [f"{store}: {head.name} not signed by the hub's key"]
    )
    leaves = members.get(f"stores/{store}/leaves.bin", b"")
    if len(leaves) != head.tree_size * chain.ENTRY.size:
        problems.append(
            f"{store}: leaves.bin holds {len(leaves) // chain.ENTRY.size} leaves, the head {head.tree_size}"
        )
    hashes = chain.leaf_hashes(leaves)
    sizes = {a.head.tree_size for a in outside if a.head.tree_size <= len(hashes)}
    frontier, roots = merkle.Frontier(), {}
    for i, h in enumerate(hashes, 1):
        frontier.append(h)
        if i in sizes:
            roots[i] = frontier.root()
    if progress:
        progress(len(hashes))
    if frontier.root() != head.root:
        problems.append(
            f"{store}: the leaves do not make the signed root: an event is missing, added or changed"
        )
    for kept in heads.get("anchors", []):
        try:
            anchor, proof = TreeHead.from_dict(kept["head"]), [bytes.fromhex(h) for h in kept["consistency"]]
        except (KeyError, TypeError, ValueError):
            problems.append(f"{store}: an anchor in heads.json is unreadable")
            continue
        if not anchor.valid() or not merkle.verify_consistency(
            anchor.tree_size, head.tree_size, anchor.root, head.root, proof
        ):
            problems.append(f"{store}: the bundle's head does not extend {anchor.name}")
    problems += _against_outside(store, head, outside, roots)
    problems += _verify_events(
        store, members.get(f"stores/{store}/events.jsonl", b""), leaves, heads.get("aggregates", {})
    )
    return problems


def _against_outside(store: str, head: TreeHead, outside: list[Anchor], roots: dict[int, bytes]) -> list[str]:
    """The department's own anchors: each must be a prefix of the bundle's log (or, if larger, be
    newer than the bundle's head: a later export then shows the rest)."""
    problems = []
    for a in outside:
        kept = a.head
        if not kept.valid():
            problems.append(f"{store}: anchor {kept.name} held by {a.holder} does not verify")
        elif kept.tree_size <= head.tree_size and roots.get(kept.tree_size) != kept.root:
            problems.append(
                f"{store}: the bundle's log differs from {kept.name} held by {a.holder} (rewritten below it)"
            )
        elif kept.tree_size > head.tree_size and kept.signed_at <= head.signed_at:
            problems.append(
                f"{store}: {kept.name} held by {a.holder} was signed before the bundle's head yet is larger: "
                f"the log was truncated from {kept.tree_size} to {head.tree_size}"
            )
        elif kept.sequence == head.sequence and kept.root_hash != head.root_hash:
            problems.append(f"{store}: {a.holder} holds another head {kept.sequence}: the hub forked its log")
    return problems


def _verify_events(store: str, lines: bytes, leaves: bytes, aggregates: dict[str, int]) -> list[str]:
    problems = []
    by_id = {chain.ENTRY.unpack_from(leaves, i)[0]: leaves[i : i + 64] for i in range(0, len(leaves), 64)}
    given: dict[str, set[int]] = {}
    for number, line in enumerate(lines.decode("utf-8", "replace").splitlines(), 1):
        try:
            e = json.loads(line)
            state = e["state"].encode() if e["state_encoding"] == "utf-8" else base64.b64decode(e["state"])
            oid = uuid.UUID(e["originator_id"])
            digest = chain.event_digest(oid, e["originator_version"], e["topic"], state)
            nid, who = int(e["notification_id"]), f"{e['originator_id']} v{e['originator_version']}"
            aggregate, name = split_topic(e["topic"])
        except (ValueError, KeyError, TypeError) as error:
            problems.append(f"{store} events.jsonl line {number}: unreadable ({error})")
            continue
        given.setdefault(str(oid), set()).add(nid)
        entry = chain.ENTRY.pack(nid, oid.bytes, e["originator_version"], digest)
        if nid not in by_id:
            problems.append(f"{store} #{nid} {who}: not in the signed log (added)")
        elif by_id[nid] != entry:
            problems.append(f"{store} #{nid} {who}: differs from its leaf in the signed log (changed)")
        else:
            written, why = _written(e, state)
            if why:
                problems.append(f"{store} #{nid} {who}: {why}")
            elif e.get("type") != f"{aggregate}.{name}" or e.get("occurred_at") != _occurred_at(written):
                problems.append(f"{store} #{nid} {who}: type or occurred_at does not match the event")
    # the enterprise's own aggregates: those the bundle names, and any whose first event it holds
    own = set(aggregates) | {oid for oid, numbers in given.items() if _first_given(numbers, by_id)}
    for aggregate_id in sorted(own):
        raw = uuid.UUID(aggregate_id).bytes
        logged = {n for n, entry in by_id.items() if entry[8:24] == raw}
        for nid in sorted(logged - given.get(aggregate_id, set())):
            version = chain.ENTRY.unpack(by_id[nid])[2]
            problems.append(
                f"{store} #{nid} {aggregate_id} v{version}: in the signed log, missing from the bundle"
            )
    return problems


def _first_given(numbers: set[int], by_id: dict[int, bytes]) -> bool:
    """Whether the bundle holds the aggregate's first event (version 1): created about the enterprise."""
    return any(n in by_id and chain.ENTRY.unpack(by_id[n])[2] == 1 for n in numbers)


def _written(e: dict[str, Any], stored: bytes) -> tuple[bytes, str]:
    """The event's bytes as written: the stored ones, or, for an encrypted store, the stored ones opened
    with the event's own key (AES-GCM's tag proves them); and what is wrong, if anything."""
    if not stored.startswith(at_rest.MAGIC):
        return stored, ""
    try:
        opened = at_rest.open_event(bytes.fromhex(str(e.get("event_key", ""))), stored)
    except Exception:  # noqa: BLE001 - no key, a wrong key, altered bytes: all the same to an auditor
        return b"", "its key does not open its stored bytes"
    if opened.decode("utf-8", "replace") != e.get("written"):
        return opened, "its content differs from its stored bytes (changed)"
    return opened, ""


def _occurred_at(state: bytes) -> str | None:
    try:
        stamp = json.loads(state).get("timestamp")
    except ValueError:
        return None
    value = stamp.get("_data_") if isinstance(stamp, dict) else stamp
    return str(value) if value is not None else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("bundle")
    parser.add_argument("--public-key", default=None, help="the hub's audit public key (hex) to trust")
    parser.add_argument("--anchors", type=Path, default=None, help="a folder of heads a department kept")
    args = parser.parse_args(argv)
    anchors = from_folder(args.anchors) if args.anchors else None
    report = verify_bundle(args.bundle, args.public_key, anchors=anchors)
    pin = "pinned" if report.pinned else "NOT pinned: pass --public-key"
    print(
        f"enterprise {report.enterprise_id}, hub key {report.fingerprint} ({pin}), {report.anchors} anchors"
    )
    for store, info in report.stores.items():
        print(f"  {store}: {info.get('events')} events in a log of {info.get('tree_size')}")
    for problem in report.problems:
        print(f"FAIL {problem}")
    print("OK: the bundle is the hub's signed log, complete for the enterprise" if report.ok else "FAILED")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
