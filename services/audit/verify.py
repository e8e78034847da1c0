"""`verify`: proves a store is an append-only extension of every head it knows, or names where not.

One read of the store: every event's write-time link checked, every event held against the leaf the
audit recorded for it, and the store's Merkle root recomputed at the size of every head the hub signed
and of every anchor a department holds. What does not match is named: the event (or the range between
the last head that matches and the first that does not), and the head or anchor it broke.
"""

from __future__ import annotations

import array
import struct
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from services.audit.application import AuditApplication, SignedHead
from services.audit.findings import Finding
from services.audit.scan import BEFORE_ALL, plan, scan_all
from services.backbone.store import HubApplication
from services.kernel import merkle
from services.kernel.tree_heads import Anchor, TreeHead, fingerprint

Progress = Callable[[str, int], None]  # (store, events just checked)
IN_PROCESS_BELOW = 40_000
_ID = struct.Struct(
    ">Q56x"
)  # an entry's notification id  # fewer events than this: not worth starting worker processes


@dataclass
class StoreReport:
    store: str
    events: int = 0  # events the store holds (leaves of its tree now)
    store_head: int = 0  # the last notification id in the store
    linked: int = 0  # leading events whose write-time links check out
    links_checked: bool = True  # False without the write-link key (MACs not checked)
    heads: int = 0  # signed heads recorded by the audit
    signed_size: int = 0  # the latest recorded head's size
    anchors: int = 0  # anchors held against the store
    anchored_size: int = 0
    keys: dict[str, int] = field(default_factory=dict)  # key fingerprint → heads/anchors signed by it
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first(self) -> Finding | None:
        return min(self.findings, key=lambda f: f.notification_id, default=None)


def recorded_entries(audit: AuditApplication, store: str) -> bytes:
    """Every entry the audit recorded for the store, block after block, in leaf order."""
    found, number = [], 0
    while (block := audit.block(store, number)) is not None:
        found.append(block.entries)
        number += 1
    return b"".join(found)


def check_heads(store: str, heads: list[SignedHead], public_key: str) -> tuple[list[TreeHead], list[Finding]]:
    """The validly signed heads, and findings for the others and for gaps in the sequence."""
    valid, found, expected = [], [], 0
    for signed in heads:
        head = signed.head
        if head.sequence != expected:
            detail = f"heads {expected}..{head.sequence - 1} are missing from the audit store"
            found.append(Finding("records", store, head.position, detail=detail))
        expected = head.sequence + 1
        if not head.valid_for(public_key):
            found.append(
                Finding(
                    "head", store, head.position, detail=f"{head.name} is not signed by the hub's audit key"
                )
            )
        else:
            valid.append(head)
    return valid, found


def check_anchors(
    store: str, anchors: list[Anchor], heads: list[TreeHead], report: StoreReport
) -> tuple[list[Anchor], list[Finding]]:
    """Anchors that verify, and what they say about the audit's own heads (lost, or forked)."""
    valid, found = [], []
    by_sequence = {h.sequence: h for h in heads}
    for anchor in anchors:
        head = anchor.head
        if not head.valid():
            found.append(
                Finding(
                    "anchor",
                    store,
                    head.position,
                    detail=f"{head.name} held by {anchor.holder} does not verify",
                )
            )
            continue
        valid.append(anchor)
        mark = fingerprint(head.public_key)
        report.keys[mark] = report.keys.get(mark, 0) + 1
        own = by_sequence.get(head.sequence)
        if own is None:
            detail = f"{head.name}, held by {anchor.holder}, is missing from the audit store"
            found.append(Finding("records", store, head.position, detail=detail))
        elif (own.tree_size, own.root_hash) != (head.tree_size, head.root_hash):
            detail = (
                f"{anchor.holder} holds {head.name} with root {head.root_hash[:16]}…; the audit store's head "
                f"{own.sequence} says size {own.tree_size}, root {own.root_hash[:16]}…"
            )
            found.append(Finding("forked", store, head.position, detail=detail))
    return valid, found


def verify_store(
    audit: AuditApplication | None,
    source: HubApplication,
    store: str,
    public_key: str,
    link_key: bytes | None,
    anchors: list[Anchor] = (),  # type: ignore[assignment]
    *,
    pool: ProcessPoolExecutor | None = None,
    progress: Progress | None = None,
) -> StoreReport:
    """The store against its write-time links, the audit's records and heads, and the anchors."""
    head_id = source.recorder.max_notification_id() or 0
    report = StoreReport(store, store_head=head_id, links_checked=link_key is not None)
    signed = audit.heads(store) if audit is not None else []
    report.heads = len(signed)
    heads, found = check_heads(store, signed, public_key)
    report.signed_size = max((h.tree_size for h in heads), default=0)
    for h in heads:
        report.keys[fingerprint(h.public_key)] = report.keys.get(fingerprint(h.public_key), 0) + 1
    mine = [a for a in anchors if a.head.store == store]
    valid_anchors, anchor_findings = check_anchors(store, mine, heads, report)
    report.anchors, report.anchored_size = (
        len(valid_anchors),
        max((a.head.tree_size for a in valid_anchors), default=0),
    )
    found += anchor_findings
    recorded = recorded_entries(audit, store) if audit is not None else b""
    targets = [(h.tree_size, h.root, f"head {h.sequence} (signed {h.signed_at[:19]})") for h in heads]
    targets += [
        (a.head.tree_size, a.head.root, f"anchor {a.head.sequence} held by {a.holder}") for a in valid_anchors
    ]
    roots, ids, report.linked = _walk(
        source, store, head_id, link_key, recorded, targets, found, pool, progress
    )
    report.events = len(ids)
    found += _against(store, targets, roots, ids)
    report.findings = sorted(found, key=lambda f: (f.notification_id, f.kind))
    return report


def _walk(
    source: HubApplication,
    store: str,
    head_id: int,
    link_key: bytes | None,
    recorded: bytes,
    targets: list[tuple[int, bytes, str]],
    found: list[Finding],
    pool: ProcessPoolExecutor | None,
    progress: Progress | None,
) -> tuple[dict[int, bytes], array.array[int], int]:
    """Reads the store once: findings of each range, roots at the targets' sizes, leaf → id."""
    sizes = {size for size, _, _ in targets}
    roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT} if 0 in sizes else {}
    frontier, ids, linked, whole = merkle.Frontier(), array.array("q"), 0, True
    tasks = plan(
        source, store, after=BEFORE_ALL, stop=head_id, previous_link=None, key=link_key, recorded=recorded
    )
    for task, result in scan_all(source, tasks, pool):
        found += result.findings
        linked += result.good if whole else 0
        whole = whole and result.good == result.count and not result.findings
        first = size = len(ids)
        ids.extend(nid for (nid,) in _ID.iter_unpack(result.entries))
        # the leaves in runs between the sizes a head or an anchor names (roots taken there)
        for cut in [*sorted(t for t in sizes if first < t < len(ids)), len(ids)]:
            frontier.extend_packed(result.leaves[(size - first) * 32 : (cut - first) * 32])
            size = cut
            if size in sizes:
                roots[size] = frontier.root()
        if progress:
            progress(store, result.count or task.events)
    return roots, ids, linked


def _against(
    store: str, targets: list[tuple[int, bytes, str]], roots: dict[int, bytes], ids: array.array[int]
) -> list[Finding]:
    """Each head and anchor against the store's root at its size: truncated, or rewritten (named by
    the range between the largest size below that still matches and this one)."""
    found = []
    matching = sorted({size for size, root, _ in targets if roots.get(size) == root} | {0})
    for size, root, what in sorted(targets, key=lambda t: t[0]):
        if size > len(ids):
            first = ids[-1] if ids else 0
            detail = f"{what} covers {size} events; the store holds {len(ids)}: truncated below it"
            found.append(Finding("truncated", store, first, detail=detail, count=size - len(ids)))
        elif roots.get(size) != root:
            below = max(s for s in matching if s < size)
            detail = (
                f"the store's tree at size {size} differs from {what}; the change lies among these events"
            )
            found.append(
                Finding(
                    "rewritten", store, ids[below], detail=detail, last_id=ids[size - 1], count=size - below
                )
            )
    return found
