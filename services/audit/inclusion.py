"""`verify-proof`: checks one event's inclusion proof with nothing but the file.

    python -m services.audit.inclusion proof.json [--public-key HEX]

The proof (from `hubctl audit prove`) carries the event's stored fields, its leaf's index, a signed
tree head and the audit path. The check recomputes the event's digest and leaf hash from the fields,
walks the path to a root (RFC 9162 §2.1.3.2), compares it with the head's, and checks the head's SM2
signature under the pinned key. README's 50-line script does the same with hashlib alone.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.audit import chain
from services.audit.proofs import PROOF_FORMAT
from services.kernel import merkle
from services.kernel.tree_heads import TreeHead, fingerprint


@dataclass
class ProofReport:
    store: str = ""
    notification_id: int = 0
    head: TreeHead | None = None
    pinned: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_proof(proof: dict[str, Any], public_key: str | None = None) -> ProofReport:
    report = ProofReport(pinned=public_key is not None)
    try:
        if proof.get("format") != PROOF_FORMAT:
            raise ValueError(f"not a {PROOF_FORMAT} proof")
        event = proof["event"]
        report.store, report.notification_id = str(proof["store"]), int(event["notification_id"])
        head = report.head = TreeHead.from_dict(proof["tree_head"])
        state = base64.b64decode(event["state"], validate=True)
        oid = uuid.UUID(event["originator_id"])
        digest = chain.event_digest(oid, int(event["originator_version"]), str(event["topic"]), state)
        entry = chain.ENTRY.pack(report.notification_id, oid.bytes, int(event["originator_version"]), digest)
        path = [bytes.fromhex(h) for h in proof["audit_path"]]
        index = int(proof["leaf_index"])
    except (KeyError, TypeError, ValueError) as error:
        report.problems.append(f"unreadable proof: {error}")
        return report
    if head.store != report.store:
        report.problems.append(f"the head is {head.store}'s, the event {report.store}'s")
    if not merkle.verify_inclusion(index, head.tree_size, merkle.leaf_hash(entry), path, head.root):
        report.problems.append(
            f"the event is not leaf {index} of the tree the head signs (changed, or not in it)"
        )
    signed = head.valid_for(public_key) if public_key else head.valid()
    if not signed:
        report.problems.append(
            "the head is not signed by " + ("the pinned key" if public_key else "the key it names")
        )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("proof", type=Path)
    parser.add_argument("--public-key", default=None, help="the hub's audit public key (hex) to trust")
    args = parser.parse_args(argv)
    try:
        proof = json.loads(args.proof.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"FAIL unreadable proof: {error}")
        return 1
    report = check_proof(proof, args.public_key)
    print(describe(report))
    return 0 if report.ok else 1


def describe(report: ProofReport) -> str:
    lines = []
    if report.head is not None:
        pin = "pinned" if report.pinned else "NOT pinned: pass --public-key"
        key = fingerprint(report.head.public_key) if report.head.public_key else "?"
        lines.append(
            f"{report.store} #{report.notification_id} in {report.head.name}, signed {report.head.signed_at} "
            f"by key {key} ({pin})"
        )
    lines += [f"FAIL {p}" for p in report.problems]
    lines.append("OK: the event is in the hub's signed log" if report.ok else "FAILED")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
