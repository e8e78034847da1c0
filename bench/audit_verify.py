"""Audit: chaining, verifying and replaying a store of N events, beside the raw notification-log read.

    python -m bench.audit_verify [--events 1000000] [--workers 0]

Seeds the registry store on PostgreSQL (its own namespace) with batched saves (500 enterprises
registered and updated per transaction, ~500-byte events), chains it as the audit worker does, then
measures each figure *paired* with the raw read of the same events: block by block (50,000 events,
one block per worker), the raw read (select_notifications pages, no decoding) and the measured work
run back to back, so that load from other processes on a shared machine hits both alike.
  verify   recompute every digest and link against the recorded chain (`hubctl audit verify`)
  replay   decode every event back into a domain event (what history and as-of replay pay per event)
  verify, end to end   verify_store() as the CLI runs it: records loaded, checkpoints checked,
                       worker processes started; beside a raw read of the whole store just before
  chain    the worker's first pass (digest, link, seal segments, sign), beside the read just before
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from bench.common import Result, save, show, stop_on_signals
from services.audit.application import AuditApplication
from services.audit.chainer import Chainer, Policy
from services.audit.ranges import RangeResult, RangeTask, check_range, plan
from services.audit.stores import SMALL_POOL, notifications, open_readonly
from services.audit.verify import run_task, verify_store, worker_pool
from services.backbone.settings import Settings
from services.backbone.store import HubApplication, open_store
from services.kernel.signatures import generate_keypair
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


def raw(source: HubApplication, after: int = -(2**63), stop: int | None = None) -> int:
    return sum(len(page) for page in notifications(source, after=after, stop=stop, page=PAGE))


def decode(source: HubApplication, task: RangeTask) -> int:
    count = 0
    for page in notifications(source, after=task.after, stop=task.stop, page=PAGE):
        for n in page:
            source.mapper.to_domain_event(n)
        count += len(page)
    return count


Work = Callable[[list[RangeTask]], int]  # checks (or decodes) a block of ranges, returns the events done


def paired(
    source: HubApplication, tasks: list[RangeTask], width: int, work: Work, label: str
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


def run(events: int = 1_000_000, workers: int = 0) -> list[Result]:
    workers = workers or os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp), "postgres")
        try:
            seed(settings, events)
            source = open_readonly("registry", settings)
            audit = open_store(AuditApplication, settings, **SMALL_POOL)
            assert source is not None
            results = measure(settings, source, audit, workers)
            source.close()
            audit.close()
        finally:
            cleanup(settings)
    return results


def measure(
    settings: Settings, source: HubApplication, audit: AuditApplication, workers: int
) -> list[Result]:
    keys, count = generate_keypair(), source.recorder.max_notification_id() or 0
    started, read = time.perf_counter(), raw(source)
    before_chain = read / (time.perf_counter() - started)
    started = time.perf_counter()
    Chainer(audit, keys, Policy(segment_size=5000, checkpoint_every=50_000)).extend("registry", source)
    chained = count / (time.perf_counter() - started)
    tasks = plan("registry", audit.segments("registry"), 50_000)

    def checked(results: list[RangeResult]) -> int:
        assert not any(r.findings for r in results)
        return sum(r.checked for r in results)

    with worker_pool(settings, workers) as pool:
        list(pool.map(run_task, [RangeTask("registry", 0, 0, ())] * workers))  # start; open the store
        in_pool: Work = lambda block: checked(list(pool.map(run_task, block)))  # noqa: E731
        parallel, raw_parallel = paired(source, tasks, workers, in_pool, f"verify, {workers} processes")
    here: Work = lambda block: checked([check_range(source, block[0])])  # noqa: E731
    single, raw_single = paired(source, tasks, 1, here, "verify, 1 process")
    replayed, raw_replay = paired(source, tasks, 1, lambda b: decode(source, b[0]), "replay (decode)")
    started, read = time.perf_counter(), raw(source)
    before_e2e = read / (time.perf_counter() - started)
    started = time.perf_counter()
    report = verify_store(audit, source, "registry", keys.public_key_hex, settings=settings, workers=workers)
    end_to_end = report.checked / (time.perf_counter() - started)
    assert report.ok and report.checked == count
    extra: dict[str, float | str] = {"events": count, "workers": workers, "cpus": os.cpu_count() or 1}
    n, before = f"{count:,} events", "raw read just before"
    verify = f"audit verify, {workers} processes ({n})"
    return [
        Result(verify, parallel, BASE, raw_parallel, target=0.5, extra=extra),
        Result(f"audit verify, 1 process ({n})", single, BASE, raw_single, extra=extra),
        Result(f"replay: decode every event ({n})", replayed, BASE, raw_replay, extra=extra),
        Result(f"audit verify end to end, {workers} processes", end_to_end, before, before_e2e, extra=extra),
        Result(f"audit chain: digest, link, seal, sign ({n})", chained, before, before_chain, extra=extra),
    ]


def main() -> None:
    stop_on_signals()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=0, help="verifier processes (0: one per CPU)")
    args = parser.parse_args()
    results = run(args.events, args.workers)
    show(results, "Audit: chain, verify and replay beside the raw notification-log read")
    print(f"written: {save(results, 'audit_verify')}")


if __name__ == "__main__":
    main()
