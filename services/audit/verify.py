"""`verify`: recompute every store's chain from its events and hold it against the signed checkpoints."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

from services.audit import chain
from services.audit.application import AuditApplication, Segment
from services.audit.checkpoint import Checkpoint
from services.audit.ranges import Finding, RangeResult, RangeTask, check_range, plan
from services.audit.stores import open_readonly
from services.backbone.settings import Settings
from services.backbone.store import HubApplication

Progress = Callable[[str, int], None]  # (store, events just checked)
IN_PROCESS_BELOW = 40_000  # fewer events than this: not worth starting worker processes


@dataclass
class StoreReport:
    store: str
    chained: int = 0  # events the recorded chain covers
    checked: int = 0  # events read from the store
    position: int = 0  # last notification id chained
    store_head: int = 0  # last notification id in the store
    checkpoints: int = 0
    signed_position: int = 0  # last notification id covered by a valid checkpoint
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first(self) -> Finding | None:
        return min(self.findings, key=lambda f: f.notification_id, default=None)


def check_chain_records(store: str, segments: list[Segment]) -> list[Finding]:
    """Segments must follow one another: sequence, positions and links."""
    found, previous_link, previous_last = [], chain.genesis(store), 0
    for index, s in enumerate(segments):
        if s.sequence != index or s.previous_link != previous_link or s.first_id <= previous_last:
            detail = f"segment {s.sequence} does not continue the chain (missing or rewritten records)"
            found.append(Finding("records", store, s.first_id, detail=detail))
        previous_link, previous_last = s.link, s.last_id
    return found


def check_checkpoints(
    store: str, segments: list[Segment], checkpoints: list[Checkpoint], public_key: str
) -> tuple[list[Finding], int]:
    """Each checkpoint: signed by the hub's key, and its link is the recorded chain's at its position."""
    found: list[Finding] = []
    links, counts, total = {}, {}, 0
    for s in segments:
        total += s.count
        links[s.last_id], counts[s.last_id] = s.link.hex(), total
    signed_position = 0
    for c in checkpoints:
        if c.store != store or not c.valid_for(public_key):
            detail = f"checkpoint {c.sequence} is not validly signed by the hub's audit key"
            found.append(Finding("checkpoint", store, c.position, detail=detail))
        elif links.get(c.position) != c.link or counts.get(c.position) != c.events:
            detail = f"checkpoint {c.sequence} signed a different chain at this position"
            found.append(Finding("checkpoint", store, c.position, detail=detail))
        else:
            signed_position = max(signed_position, c.position)
    return found, signed_position


_worker_stores: dict[str, HubApplication] = {}
_worker_settings: Settings | None = None


def _init_worker(settings: Settings) -> None:
    global _worker_settings
    _worker_settings = settings


def worker_pool(settings: Settings, workers: int) -> ProcessPoolExecutor:
    """Processes that check ranges (`run_task`), each with its own connections to the stores."""
    context = multiprocessing.get_context("spawn")  # no inherited connection pools or threads
    return ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(settings,))


def run_task(task: RangeTask) -> RangeResult:
    """check_range in a worker process (the store is opened once per process)."""
    if task.store not in _worker_stores:
        assert _worker_settings is not None
        app = open_readonly(task.store, _worker_settings)
        if app is None:
            raise RuntimeError(f"store {task.store} disappeared")
        _worker_stores[task.store] = app
    return check_range(_worker_stores[task.store], task)


def verify_store(
    audit: AuditApplication,
    source: HubApplication,
    store: str,
    public_key: str,
    *,
    settings: Settings | None = None,
    workers: int = 1,
    chunk_events: int = 50_000,
    parallel_from: int = IN_PROCESS_BELOW,
    progress: Progress | None = None,
) -> StoreReport:
    """Walks the store against its recorded chain and checkpoints; findings name the events."""
    segments, checkpoints = audit.segments(store), audit.checkpoints(store)
    report = StoreReport(store, store_head=source.recorder.max_notification_id() or 0)
    report.chained = sum(s.count for s in segments)
    report.position = segments[-1].last_id if segments else 0
    report.checkpoints = len(checkpoints)
    report.findings += check_chain_records(store, segments)
    found, report.signed_position = check_checkpoints(store, segments, checkpoints, public_key)
    report.findings += found
    tasks = plan(store, segments, chunk_events)
    if workers > 1 and settings is not None and report.chained >= parallel_from:
        results = _in_pool(tasks, settings, workers, progress)
    else:
        results = _here(source, tasks, progress)
    for result in results:
        report.findings += result.findings
        report.checked += result.checked
    report.findings.sort(key=lambda f: (f.notification_id, f.kind))
    return report


def _here(source: HubApplication, tasks: list[RangeTask], progress: Progress | None) -> list[RangeResult]:
    results = []
    for task in tasks:
        results.append(check_range(source, task))
        if progress:
            progress(task.store, task.events)
    return results


def _in_pool(
    tasks: list[RangeTask], settings: Settings, workers: int, progress: Progress | None
) -> list[RangeResult]:
    with worker_pool(settings, workers) as pool:
        futures = {pool.submit(run_task, task): task for task in tasks}
        results = []
        for future in as_completed(futures):
            results.append(future.result())
            if progress:
                progress(futures[future].store, futures[future].events)
    return results


def default_workers() -> int:
    return int(os.environ.get("HUB_AUDIT_VERIFY_WORKERS", "0")) or (os.cpu_count() or 1)
