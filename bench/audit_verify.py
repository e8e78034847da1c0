"""Audit: building, verifying and replaying a store of N events, and proving one event, each beside a
raw baseline measured in the same run.

    python -m bench.audit_verify [--events 1000000] [--workers 0] [--proofs 300]

Seeds the registry store on PostgreSQL (its own namespace) with batched saves (500 enterprises
registered and updated per transaction, ~500-byte events, each transaction linked at write time),
then measures, against the raw notification-log read of the same events (select_notifications pages,
no decoding):
  tree     the worker's first pass over the whole store: every link row checked, leaves, the Merkle
           tree, blocks recorded, a head signed every 10,000 events (its default), in worker processes
           as the worker reads a backlog, beside raw reads of the whole store just before and after; and
           the same in one process
  verify   `hubctl audit verify` as it runs: links, recorded leaves, roots at every head and anchor,
           beside raw reads just before and after; and, chunk by chunk back to back (load on a shared machine
           hits both alike), the worker processes' scan of 50,000 events beside the raw read of them
  replay   decoding every event back into a domain event (what history and as-of replay pay)
  proofs   `prove` of one event beside reading that one event; `verify-proof` beside the SM2 check of
           the head it carries (the floor: every proof check verifies one signature)
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from bench.common import Result, save, show, stop_on_signals
from services.audit.application import AuditApplication
from services.audit.builder import Policy, TreeBuilder
from services.audit.inclusion import check_proof
from services.audit.proofs import RecordedTree, prove
from services.audit.scan import BEFORE_ALL, ScanTask, plan, scan, scan_all, worker_pool
from services.audit.stores import SMALL_POOL, notifications, open_readonly
from services.audit.verify import verify_store
from services.backbone import links
from services.backbone.settings import Settings
from services.backbone.store import HubApplication, open_store
from services.kernel import signatures
from services.kernel.signatures import generate_keypair
from services.kernel.tree_heads import Anchor
from services.registry.application import RegistryApplication
from services.registry.domain import Enterprise
from tests.conftest import cleanup, make_settings
from tests.factories import enterprise_kwargs

PAGE = 2000  # the verifier's page size, used for the raw baseline too
PER_SAVE = 500  # enterprises per transaction (two events each)
COLUMNS = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
BASE = "raw notification read, same events, back to back"


def seed(settings: Settings, events: int) -> None:
    registry = open_store(RegistryApplication, settings)
    with Progress(*COLUMNS) as bars:
        task = bars.add_task("seeding (batched saves)", total=events)
        enterprises = events // 2
        for start in range(0, enterprises, PER_SAVE):
            numbers = range(start, min(start + PER_SAVE, enterprises))
            batch = [Enterprise(**enterprise_kwargs(n)) for n in numbers]
            for enterprise in batch:
                enterprise.update_profile({"address": f"张山子镇新区{enterprise.uscc[-6:]}号"})
            registry.save(*batch)
            bars.advance(task, 2 * len(batch))
    registry.close()


def raw(source: HubApplication, after: int = BEFORE_ALL, stop: int | None = None) -> int:
    return sum(len(page) for page in notifications(source, after=after, stop=stop, page=PAGE))


def read_rate(source: HubApplication) -> float:
    started, read = time.perf_counter(), raw(source)
    return read / (time.perf_counter() - started)


def around(before: float, source: HubApplication) -> float:
    """The raw read's rate over the reads just before and just after a measurement (its time
    averaged): a shared machine's load drifts during a long one."""
    after = read_rate(source)
    return 2 / (1 / before + 1 / after)


Work = Callable[[list[ScanTask]], int]  # scans (or decodes) a block of ranges, returns the events done


def paired(
    source: HubApplication, tasks: list[ScanTask], width: int, work: Work, label: str
) -> tuple[float, float]:
    """(events/s of the work, events/s of the raw read), block by block, back to back."""
    raw_seconds = work_seconds = 0.0
    events = 0
    with Progress(*COLUMNS) as bars:
        bar = bars.add_task(label, total=sum(t.events for t in tasks))
        for i in range(0, len(tasks), width):
            block = tasks[i : i + width]
            started = time.perf_counter()
            read = sum(raw(source, t.after, t.stop) for t in block)
            raw_seconds += time.perf_counter() - started
            started = time.perf_counter()
            done = work(block)
            work_seconds += time.perf_counter() - started
            assert done == read, (done, read)
            events += read
            bars.advance(bar, read)
    return events / work_seconds, events / raw_seconds


def decode(source: HubApplication, task: ScanTask) -> int:
    count = 0
    for page in notifications(source, after=task.after, stop=task.stop, page=PAGE):
        for n in page:
            source.mapper.to_domain_event(n)
        count += len(page)
    return count


def build(
    settings: Settings, source: HubApplication, workers: int, keys: signatures.KeyPair
) -> tuple[float, float]:
    """(events/s of a first pass over the whole store, events/s of the raw read just before), in a
    fresh audit store of its own namespace."""
    scratch = make_settings(Path(tempfile.mkdtemp()), "postgres")
    audit = open_store(AuditApplication, scratch, **SMALL_POOL)
    try:
        before = read_rate(source)
        builder = TreeBuilder(audit, keys, links.write_key(settings), Policy())  # as the worker runs
        pool = worker_pool(settings, workers) if workers > 1 else None
        try:
            if pool is not None:
                list(pool.map(_noop, range(workers)))  # started: the pass does not pay for spawning
            started = time.perf_counter()
            heads = builder.extend("registry", source, sign_now=True, pool=pool)
            elapsed = time.perf_counter() - started
        finally:
            builder.close()
            if pool is not None:
                pool.shutdown()
        assert heads and heads[-1].tree_size == len(list(_ids(source)))
        return heads[-1].tree_size / elapsed, around(before, source)
    finally:
        audit.close()
        cleanup(scratch)


def _noop(_: int) -> None:
    return None


def _ids(source: HubApplication) -> list[int]:
    return [n.id for page in notifications(source, page=10_000) for n in page]


def run(events: int = 1_000_000, workers: int = 0, proofs: int = 300) -> list[Result]:
    workers = workers or os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp), "postgres")
        try:
            seed(settings, events)
            source = open_readonly("registry", settings)
            audit = open_store(AuditApplication, settings, **SMALL_POOL)
            assert source is not None
            results = measure(settings, source, audit, workers, proofs)
            source.close()
            audit.close()
        finally:
            cleanup(settings)
    return results


def measure(
    settings: Settings, source: HubApplication, audit: AuditApplication, workers: int, proofs: int
) -> list[Result]:
    keys, count = generate_keypair(), source.recorder.max_notification_id() or 0
    n, extra = f"{count:,} events", {"events": count, "workers": workers, "cpus": os.cpu_count() or 1}
    built, before_build = build(settings, source, workers, keys)
    built_one, before_one = build(settings, source, 1, keys)
    # the store's real audit records, signed in several heads (verify recomputes the root at each)
    builder = TreeBuilder(audit, keys, links.write_key(settings), Policy(checkpoint_every=max(count // 8, 1)))
    with worker_pool(settings, workers) as pool:
        builder.extend("registry", source, sign_now=True, pool=pool)
        anchors = [Anchor(h.head, "bench") for h in audit.heads("registry")]
        key = links.write_key(settings)
        tasks = list(plan(source, "registry", after=BEFORE_ALL, stop=count, previous_link=None, key=key))

        def in_pool(block: list[ScanTask]) -> int:
            done = [r for _, r in scan_all(source, block, pool, ahead=len(block))]
            assert not any(r.findings for r in done)
            return sum(r.count for r in done)

        parallel, raw_parallel = paired(source, tasks, workers, in_pool, f"verify scan, {workers} processes")
        before_e2e = read_rate(source)
        started = time.perf_counter()
        report = verify_store(
            audit, source, "registry", keys.public_key_hex, links.write_key(settings), anchors, pool=pool
        )
        end_to_end = report.events / (time.perf_counter() - started)
        before_e2e = around(before_e2e, source)
        assert report.ok and report.events == count and report.anchors == len(anchors), report.findings[:3]
    single, raw_single = paired(
        source, tasks, 1, lambda b: scan(source, b[0]).count, "verify scan, 1 process"
    )
    replayed, raw_replay = paired(source, tasks, 1, lambda b: decode(source, b[0]), "replay (decode)")
    return [
        Result(
            f"audit tree: links, leaves, tree, sign, {workers} processes ({n})",
            built,
            "raw read just before and after",
            before_build,
            target=0.5,
            extra=extra,
        ),
        Result(
            f"audit tree, 1 process ({n})",
            built_one,
            "raw read just before and after",
            before_one,
            extra=extra,
        ),
        Result(
            f"audit verify end to end, {workers} processes, {len(anchors)} anchors ({n})",
            end_to_end,
            "raw read just before and after",
            before_e2e,
            target=0.5,
            extra=extra,
        ),
        Result(f"audit verify scan, {workers} processes ({n})", parallel, BASE, raw_parallel, extra=extra),
        Result(f"audit verify scan, 1 process ({n})", single, BASE, raw_single, extra=extra),
        Result(f"replay: decode every event ({n})", replayed, BASE, raw_replay, extra=extra),
        *proof_results(source, audit, keys, count, proofs),
    ]


def proof_results(
    source: HubApplication, audit: AuditApplication, keys: signatures.KeyPair, count: int, proofs: int
) -> list[Result]:
    """One event's proof made and checked, each beside its floor, `proofs` random events."""
    chosen = random.Random(24).sample(_ids(source), min(proofs, count))
    started = time.perf_counter()
    for nid in chosen:
        source.recorder.select_notifications(start=nid, limit=1, stop=nid)
    read_one = len(chosen) / (time.perf_counter() - started)
    started = time.perf_counter()
    prove(audit, source, "registry", chosen[0])  # one alone, as `hubctl audit prove` makes it
    cold = time.perf_counter() - started
    recorded, head = RecordedTree(audit, "registry"), audit.latest_head("registry")
    assert head is not None
    started = time.perf_counter()  # a prover of many events: blocks read once
    made = [
        prove(audit, source, "registry", nid, recorded=recorded, head=head.head).as_dict() for nid in chosen
    ]
    proved = len(chosen) / (time.perf_counter() - started)
    head = made[0]["tree_head"]
    signed = (
        f"riskhub-tree-head/v1|{head['store']}|{head['sequence']}|{head['tree_size']}|{head['root_hash']}"
    )
    signed = (signed + f"|{head['position']}|{head['signed_at']}").encode()
    started = time.perf_counter()
    for _ in chosen:
        assert signatures.verify(keys.public_key_hex, signed, head["signature"])
    sm2 = len(chosen) / (time.perf_counter() - started)
    started = time.perf_counter()
    assert all(check_proof(p, keys.public_key_hex).ok for p in made)
    checked = len(chosen) / (time.perf_counter() - started)
    extra: dict[str, float | str] = {
        "proofs": len(chosen),
        "path_nodes": len(made[0]["audit_path"]),
        "one_proof_alone_ms": round(cold * 1000, 1),
    }
    return [
        Result(
            "audit prove: one event's inclusion proof",
            proved,
            "reading that one event",
            read_one,
            unit="proofs/s",
            extra=extra,
        ),
        Result(
            "audit verify-proof: one proof checked",
            checked,
            "the SM2 check of its head alone",
            sm2,
            unit="proofs/s",
            extra=extra,
        ),
    ]


def main() -> None:
    stop_on_signals()
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=0, help="processes (0: one per CPU)")
    parser.add_argument("--proofs", type=int, default=300)
    args = parser.parse_args()
    results = run(args.events, args.workers, args.proofs)
    show(results, "Audit: tree, verify, replay and proofs beside raw baselines")
    print(f"written: {save(results, 'audit_verify')}")


if __name__ == "__main__":
    main()
