"""`verify-bundle`: checks an exported bundle with nothing but the file (no database, no broker).

    python -m services.audit.offline bundle.zip [--public-key HEX]

Pin the hub's audit public key (from `hubctl audit key`, or a checkpoint a department received):
without a pin the bundle is checked against the key it names, which proves integrity, not origin.
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
from typing import Any

from services.audit import chain
from services.audit.checkpoint import Checkpoint, fingerprint
from services.backbone.envelope import split_topic
from services.kernel import signatures

FIXED = {"manifest.json", "manifest.sig"}


@dataclass
class BundleReport:
    enterprise_id: str = ""
    fingerprint: str = ""
    pinned: bool = False
    stores: dict[str, dict[str, int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_bundle(
    path: str, public_key: str | None = None, progress: Callable[[int], None] | None = None
) -> BundleReport:
    report = BundleReport(pinned=public_key is not None)
    try:
        with zipfile.ZipFile(path) as bundle:
            members = {name: bundle.read(name) for name in bundle.namelist()}
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        report.problems.append(f"not a readable bundle: {error}")
        return report
    try:
        manifest = json.loads(members["manifest.json"])
        signature = members["manifest.sig"].decode("ascii").strip()
    except (KeyError, ValueError) as error:
        report.problems.append(f"manifest missing or unreadable: {error}")
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
        checkpoints = json.loads(members.get("checkpoints.json", b"{}"))
    except ValueError as error:
        report.problems.append(f"checkpoints.json: unreadable ({error})")
        checkpoints = {}
    for store, info in sorted(dict(manifest.get("stores", {})).items()):
        report.stores[store] = dict(info)
        report.problems += _verify_store(store, info, members, checkpoints.get(store, []), key, progress)
    return report


def _verify_store(
    store: str,
    info: dict[str, Any],
    members: dict[str, bytes],
    checkpoint_dicts: list[dict[str, Any]],
    key: str,
    progress: Callable[[int], None] | None,
) -> list[str]:
    problems: list[str] = []
    at: dict[int, str] = {}
    for data in checkpoint_dicts:
        c = Checkpoint.from_dict(data)
        if c.store != store or not c.valid_for(key):
            problems.append(f"{store}: checkpoint {c.sequence} at #{c.position} not signed by the hub's key")
        else:
            at[c.position] = c.link
    records = members.get(f"stores/{store}/chain.bin", b"")
    if len(records) % chain.RECORD.size:
        problems.append(f"{store}: chain.bin is not a whole number of records")
    digests, link, previous, checked = {}, chain.genesis(store), 0, 0
    whole = len(records) - len(records) % chain.RECORD.size
    for nid, digest, recorded_link in chain.RECORD.iter_unpack(records[:whole]):
        link = chain.next_link(link, nid, digest)
        if nid <= previous or link != recorded_link:
            problems.append(f"{store} #{nid}: chain record does not follow from the one before")
            return problems
        if nid in at and at[nid] != link.hex():
            problems.append(f"{store} #{nid}: chain differs from the signed checkpoint here")
        digests[nid], previous, checked = digest, nid, checked + 1
        if progress and checked % 100_000 == 0:
            progress(100_000)
    if progress:
        progress(checked % 100_000)
    if previous != info.get("position") or previous not in at or checked != info.get("records"):
        problems.append(f"{store}: chain does not end at a signed checkpoint (ends at #{previous})")
    problems += _verify_events(store, members.get(f"stores/{store}/events.jsonl", b""), digests)
    return problems


def _verify_events(store: str, lines: bytes, digests: dict[int, bytes]) -> list[str]:
    problems = []
    for number, line in enumerate(lines.decode("utf-8", "replace").splitlines(), 1):
        try:
            e = json.loads(line)
            state = e["state"].encode() if e["state_encoding"] == "utf-8" else base64.b64decode(e["state"])
            oid = e["originator_id"]
            oid = uuid.UUID(oid) if e.get("originator_id_type") == "uuid" else oid
            digest = chain.event_digest(oid, e["originator_version"], e["topic"], state)
            nid, who = e["notification_id"], f"{e['originator_id']} v{e['originator_version']}"
            aggregate, name = split_topic(e["topic"])
        except (ValueError, KeyError, TypeError) as error:
            problems.append(f"{store} events.jsonl line {number}: unreadable ({error})")
            continue
        if digests.get(nid) != digest:
            problems.append(f"{store} #{nid} {who}: event differs from its chained digest")
        elif e.get("type") != f"{aggregate}.{name}" or e.get("occurred_at") != _occurred_at(state):
            problems.append(f"{store} #{nid} {who}: type or occurred_at does not match the event")
    return problems


def _occurred_at(state: bytes) -> str | None:
    try:
        stamp = json.loads(state).get("timestamp")
    except ValueError:
        return None
    value = stamp.get("_data_") if isinstance(stamp, dict) else stamp
    return str(value) if value is not None else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle")
    parser.add_argument("--public-key", default=None, help="the hub's audit public key (hex) to trust")
    args = parser.parse_args(argv)
    report = verify_bundle(args.bundle, args.public_key)
    pin = "pinned" if report.pinned else "NOT pinned: pass --public-key"
    print(f"enterprise {report.enterprise_id}, hub key {report.fingerprint} ({pin})")
    for store, info in report.stores.items():
        events, records, position = info.get("events"), info.get("records"), info.get("position")
        print(f"  {store}: {events} events, {records} chain records up to #{position}")
    for problem in report.problems:
        print(f"FAIL {problem}")
    print("OK: every event matches the hub's signed chain" if report.ok else "FAILED")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
