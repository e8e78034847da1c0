"""A range of a store read as the audit reads it: every event's entry and leaf hash, every write-time
link row checked against the events it covers, and (for `verify`) every event held against the entry
the audit recorded for it. Ranges run here or in worker processes, each with its own connections.
"""

from __future__ import annotations

import bisect
import multiprocessing
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from services.audit import chain
from services.audit.findings import Finding
from services.audit.stores import BEFORE_ALL, notifications, open_readonly
from services.backbone import link_recorders, links
from services.backbone.settings import Settings
from services.backbone.store import HubApplication

PAGE = 2000
_SIZE = chain.ENTRY.size


@dataclass(frozen=True)
class ScanTask:
    """Events after `after` up to `stop`, against the link rows ending in that range."""

    store: str
    after: int
    stop: int
    rows: tuple[links.Row, ...]
    previous_link: bytes | None  # the stored link of the row before the first (None: the genesis)
    key: bytes | None  # the write-link key; None: rows are checked for what they cover, not their MACs
    linked: bool = True  # False: the store has no link table, so nothing in it is linked
    recorded: bytes = b""  # the entries the audit recorded in the range (verify names each event by them)

    @property
    def events(self) -> int:
        return sum(r.events for r in self.rows)


@dataclass
class ScanResult:
    entries: bytes = b""  # packed, every event of the range in order
    leaves: bytes = b""  # their leaf hashes, 32 bytes each
    count: int = 0
    good: int = 0  # leading events whose rows checked out: the builder takes these and stops
    position: int = 0  # the notification id of the last good event (the task's `after` when none)
    link: bytes | None = None  # the stored link of the last good row
    findings: list[Finding] = field(default_factory=list)


class _Scan:
    """The state of one scan: the rows being filled and the runs of unlinked events."""

    def __init__(self, task: ScanTask) -> None:
        self.task, self.rows, self.next_row = task, task.rows, 0
        self.previous = task.previous_link if task.previous_link is not None else links.genesis(task.store)
        self.ids: list[int] = []
        self.digests: list[bytes] = []
        self.broken = not task.linked
        self.result = ScanResult(position=task.after, link=task.previous_link)
        self.run: list[tuple[int, str, int]] = []  # consecutive unlinked events: (id, originator, version)

    def event(self, n: Any, digest: bytes) -> None:
        nid, rows = n.id, self.rows
        while self.next_row < len(rows) and nid > rows[self.next_row].last_id:
            self.close_row()
        if self.next_row >= len(rows) or nid < rows[self.next_row].first_id:  # no row covers it
            self.run.append((nid, str(n.originator_id), n.originator_version))
            self.broken = True
            return
        if self.run:
            self.end_run()
        self.ids.append(nid)
        self.digests.append(digest)

    def close_row(self) -> None:
        row, task = self.rows[self.next_row], self.task
        self.next_row += 1
        ids, digests, self.ids, self.digests = self.ids, self.digests, [], []
        ok = bool(ids) and (ids[0], ids[-1], len(ids)) == (row.first_id, row.last_id, row.events)
        if ok and task.key is not None:
            packed = links.entries(ids, digests)
            ok = (
                links.link(task.key, task.store, self.previous, row.first_id, row.last_id, row.events, packed)
                == row.link
            )
        self.previous = row.link  # the next row was made on the stored one
        if ok and not self.broken:
            self.result.good += len(ids)
            self.result.position, self.result.link = row.last_id, row.link
            return
        if ok:
            return
        self.broken = True
        span = f"#{row.first_id}..#{row.last_id}, {row.events} events"
        if not ids:
            detail = f"the write-time link of {span} covers events the store no longer has"
            self.add(
                Finding(
                    "removed", task.store, row.first_id, detail=detail, last_id=row.last_id, count=row.events
                )
            )
        else:
            detail = f"do not match the write-time link of {span}: changed, added or removed past the hub"
            self.add(Finding("unlinked", task.store, ids[0], detail=detail, last_id=ids[-1], count=len(ids)))

    def end_run(self) -> None:
        if not self.run:
            return
        run, self.run = self.run, []
        detail = "no write-time link covers it: written past the hub's services"
        if not self.task.linked:
            detail = "the store has no write-time links (written before them, or with HUB_WRITE_LINKS=false)"
        if len(run) == 1:
            nid, originator, version = run[0]
            self.add(Finding("unlinked", self.task.store, nid, originator, version, detail))
        else:
            self.add(
                Finding(
                    "unlinked", self.task.store, run[0][0], detail=detail, last_id=run[-1][0], count=len(run)
                )
            )

    def add(self, finding: Finding) -> None:
        self.result.findings.append(finding)

    def finish(self) -> ScanResult:
        while self.next_row < len(self.rows):
            self.close_row()
        self.end_run()
        return self.result


def scan(source: HubApplication, task: ScanTask) -> ScanResult:
    """Reads the task's range once: entries, leaves, link checks, and findings against `recorded`."""
    state = _Scan(task)
    recorded = _Recorded(task.store, task.recorded)
    entries, leaves = [], []
    for page in notifications(source, after=task.after, stop=task.stop, page=PAGE):
        digests, page_entries, page_leaves = chain.entries_and_leaves(page)
        entries += page_entries
        leaves += page_leaves
        event = state.event
        for n, digest in zip(page, digests, strict=True):
            event(n, digest)
        if recorded.last:
            for n, entry in zip(page, page_entries, strict=True):
                recorded.check(n.id, entry, state.add)
    recorded.finish(state.add)
    result = state.finish()
    result.entries, result.leaves, result.count = b"".join(entries), b"".join(leaves), len(entries)
    result.findings.sort(key=lambda f: f.notification_id)
    return result


class _Recorded:
    """Walks the recorded entries beside the store's events (both in notification order)."""

    def __init__(self, store: str, packed: bytes) -> None:
        self.store = store
        self.items = chain.ENTRY.iter_unpack(packed)
        self.current = next(self.items, None)
        self.last = chain.ENTRY.unpack_from(packed, len(packed) - _SIZE)[0] if packed else 0

    def check(self, nid: int, entry: bytes, add: Callable[[Finding], None]) -> None:
        while self.current is not None and self.current[0] < nid:
            add(self._finding("removed", self.current, "recorded in the audit log, gone from the store"))
            self.current = next(self.items, None)
        if nid > self.last:
            return
        if self.current is None or self.current[0] != nid:
            _, oid, version, _ = chain.ENTRY.unpack(entry)
            add(
                Finding(
                    "inserted", self.store, nid, str(_uuid(oid)), version, "not in the audit log's leaves"
                )
            )
            return
        if chain.ENTRY.pack(*self.current) != entry:
            detail = "stored bytes differ from the recorded leaf"
            _, oid, version, _ = chain.ENTRY.unpack(entry)
            if (oid, version) != (self.current[1], self.current[2]):
                detail += f"; now claims {_uuid(oid)} v{version}"
            add(self._finding("altered", self.current, detail))
        self.current = next(self.items, None)

    def finish(self, add: Callable[[Finding], None]) -> None:
        while self.current is not None:
            add(self._finding("removed", self.current, "recorded in the audit log, gone from the store"))
            self.current = next(self.items, None)

    def _finding(self, kind: str, rec: tuple[int, bytes, int, bytes], detail: str) -> Finding:
        return Finding(kind, self.store, rec[0], str(_uuid(rec[1])), rec[2], detail)


def _uuid(raw: bytes) -> str:
    return str(uuid.UUID(bytes=raw))


def slice_entries(packed: bytes, after: int, stop: int) -> bytes:
    """The packed entries whose notification ids lie in (after, stop]."""
    count = len(packed) // _SIZE

    def nid(i: int) -> int:
        return int(chain.ENTRY.unpack_from(packed, i * _SIZE)[0])

    low = bisect.bisect_right(range(count), after, key=nid)
    high = bisect.bisect_right(range(count), stop, key=nid)
    return packed[low * _SIZE : high * _SIZE]


def plan(
    source: HubApplication,
    store: str,
    *,
    after: int,
    stop: int,
    previous_link: bytes | None,
    key: bytes | None,
    chunk_events: int = 50_000,
    recorded: bytes = b"",
) -> Iterator[ScanTask]:
    """Consecutive tasks of about chunk_events events covering (after, stop], split between link rows
    (read a page at a time); the last one reaches `stop` whatever the rows say."""
    recorder = source.recorder
    first = link_recorders.rows(recorder, after, stop, limit=1)
    if first is None:  # no link table: one finding for the whole store, not one per event
        yield ScanTask(
            store, after, stop, (), previous_link, key, False, slice_entries(recorded, after, stop)
        )
        return
    group: list[links.Row] = []
    start, link, position, events = after, previous_link, after, 0
    while page := link_recorders.rows(recorder, position, stop, limit=10_000):
        for row in page:
            group.append(row)
            events += row.events
            if events >= chunk_events:
                yield ScanTask(
                    store,
                    start,
                    row.last_id,
                    tuple(group),
                    link,
                    key,
                    True,
                    slice_entries(recorded, start, row.last_id),
                )
                start, link, group, events = row.last_id, row.link, [], 0
        position = page[-1].last_id
    yield ScanTask(store, start, stop, tuple(group), link, key, True, slice_entries(recorded, start, stop))


_worker_stores: dict[str, HubApplication] = {}
_worker_settings: Settings | None = None


def _init_worker(settings: Settings) -> None:
    global _worker_settings
    _worker_settings = settings


def worker_pool(settings: Settings, workers: int) -> ProcessPoolExecutor:
    """Processes that scan ranges (`run_task`), each with its own connections to the stores."""
    context = multiprocessing.get_context("spawn")  # no inherited connection pools or threads
    return ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(settings,))


def run_task(task: ScanTask) -> ScanResult:
    """scan() in a worker process (the store is opened once per process)."""
    if task.store not in _worker_stores:
        assert _worker_settings is not None
        app = open_readonly(task.store, _worker_settings)
        if app is None:
            raise RuntimeError(f"store {task.store} disappeared")
        _worker_stores[task.store] = app
    return scan(_worker_stores[task.store], task)


def scan_all(
    source: HubApplication, tasks: Iterable[ScanTask], pool: ProcessPoolExecutor | None, ahead: int = 4
) -> Iterator[tuple[ScanTask, ScanResult]]:
    """Every task's result in order: here, or in the pool with at most `ahead` tasks in flight (a
    province's results would not fit in memory all at once)."""
    if pool is None:
        for task in tasks:
            yield task, scan(source, task)
        return
    flying: deque[tuple[ScanTask, Future[ScanResult]]] = deque()
    for task in tasks:
        flying.append((task, pool.submit(run_task, task)))
        if len(flying) >= ahead:
            done, future = flying.popleft()
            yield done, future.result()
    while flying:
        done, future = flying.popleft()
        yield done, future.result()


__all__ = ["BEFORE_ALL", "ScanResult", "ScanTask", "plan", "scan", "scan_all", "worker_pool"]
