"""Checking one range of a store against the segments that recorded it (runs in a worker process too)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from eventsourcing.persistence import Notification

from services.audit import chain
from services.audit.application import Segment
from services.audit.stores import BEFORE_ALL, notifications
from services.backbone.store import HubApplication

PAGE = 2000


@dataclass(frozen=True)
class Finding:
    """Something that does not match what was chained: the event and what is wrong with it."""

    kind: str  # altered | removed | inserted | records | checkpoint
    store: str
    notification_id: int
    originator_id: str = ""
    originator_version: int = 0
    detail: str = ""

    def describe(self) -> str:
        who = f" {self.originator_id} v{self.originator_version}" if self.originator_id else ""
        return f"{self.store} #{self.notification_id}{who}: {self.kind}" + (
            f" ({self.detail})" if self.detail else ""
        )


@dataclass(frozen=True)
class RangeTask:
    """Store notifications after `after` up to `stop`, against consecutive recorded segments."""

    store: str
    after: int
    stop: int
    segments: tuple[Segment, ...]

    @property
    def events(self) -> int:
        return sum(s.count for s in self.segments)


@dataclass
class RangeResult:
    findings: list[Finding] = field(default_factory=list)
    checked: int = 0


def _recorded(segments: tuple[Segment, ...]) -> Iterator[tuple[int, bytes, int, bytes]]:
    for segment in segments:
        yield from chain.ENTRY.iter_unpack(segment.entries)  # (id, originator bytes, version, digest)


def check_records(task: RangeTask) -> list[Finding]:
    """Each segment's recorded digests must chain to its recorded link (else the records were edited)."""
    found = []
    for s in task.segments:
        if chain.link_through(s.previous_link, s.entries) != s.link:
            detail = f"recorded digests of segment {s.sequence} do not chain to its link"
            found.append(Finding("records", s.store, s.first_id, detail=detail))
    return found


def check_range(source: HubApplication, task: RangeTask) -> RangeResult:
    """Every stored event of the range must be the recorded one: same id, same digest."""
    result = RangeResult(findings=check_records(task))
    store, add = task.store, result.findings.append
    recorded = _recorded(task.segments)
    rec = next(recorded, None)
    digest = chain.notification_digest
    for page in notifications(source, after=task.after, stop=task.stop, page=PAGE):
        result.checked += len(page)
        for n in page:
            while rec is not None and rec[0] < n.id:
                add(_finding("removed", store, rec))
                rec = next(recorded, None)
            if rec is None or rec[0] != n.id:
                add(Finding("inserted", store, n.id, str(n.originator_id), n.originator_version))
                continue
            if digest(n) != rec[3]:
                add(_altered(store, n, rec))
            rec = next(recorded, None)
    while rec is not None:
        add(_finding("removed", store, rec))
        rec = next(recorded, None)
    return result


def _finding(kind: str, store: str, rec: tuple[int, bytes, int, bytes], detail: str = "") -> Finding:
    return Finding(kind, store, rec[0], str(uuid.UUID(bytes=rec[1])), rec[2], detail)


def _altered(store: str, n: Notification, rec: tuple[int, bytes, int, bytes]) -> Finding:
    detail = "stored bytes differ from the chained digest"
    if (str(n.originator_id), n.originator_version) != (str(uuid.UUID(bytes=rec[1])), rec[2]):
        detail += f"; now claims {n.originator_id} v{n.originator_version}"
    return _finding("altered", store, rec, detail)


def plan(store: str, segments: list[Segment], chunk_events: int) -> list[RangeTask]:
    """Consecutive segments grouped into tasks of about chunk_events events each."""
    tasks: list[RangeTask] = []
    group: list[Segment] = []
    after = BEFORE_ALL
    for segment in segments:
        group.append(segment)
        if sum(s.count for s in group) >= chunk_events:
            tasks.append(RangeTask(store, after, group[-1].last_id, tuple(group)))
            after, group = group[-1].last_id, []
    if group:
        tasks.append(RangeTask(store, after, group[-1].last_id, tuple(group)))
    return tasks
