"""Each reach into eventsourcing's internals (services/backbone/library.py) against the library's own
way, in the same run: replaying an aggregate, collecting a save, writing and reading an event's state.
A ratio near 1 says the reach no longer pays for itself and can go.

    python -m bench.library_seam [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from eventsourcing.application import ProcessingEvent, project_aggregate
from eventsourcing.domain import event
from eventsourcing.persistence import JSONTranscoder
from rich.console import Console
from rich.table import Table

from services.backbone import library, transcoder
from services.backbone.aggregate import HubAggregate
from services.backbone.store import HubApplication


class Index(HubAggregate):
    """An index aggregate much as the registry keeps them: many small events."""

    def __init__(self) -> None:
        self.members: dict[str, str] = {}

    @event("Added")
    def add(self, key: str, value: str) -> None:
        self.members[key] = value


def per_call(fn: Callable[[], Any], rounds: int, calls: int) -> float:
    """The median of `rounds` timings of `calls` calls, in µs per call."""
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        timings.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(timings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    app = HubApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    index = Index()
    for n in range(200):
        index.add(f"k{n}", "v")
    events = index.collect_events()
    points = [Index() for _ in range(50)]
    plain = JSONTranscoder()
    app.register_transcodings(plain)
    fast = library.become(JSONTranscoder(), transcoder.OrjsonTranscoder)
    app.register_transcodings(fast)
    small = vars(events[1]).copy()  # an index entry: a few fields and a timestamp
    # a risk point's first event: its details, assessment and history, ~1 KB
    large = {
        **small,
        "name": "液氨储罐区",
        "location": "厂区东侧",
        "category": "设备设施",
        "accident_types": ["火灾", "容器爆炸", "中毒和窒息"],
        "control_measures": [{"type": "在线监测", "description": "可燃气体报警仪 24 小时监测"}] * 4,
        "emergency_measures": ["应急预案", "疏散路线"],
        "assessment": {"method": "LEC", "scores": {"L": 3, "E": 6, "C": 40}, "value": 720.0, "level": 1},
        "thresholds": {"lec": [320, 160, 70], "ls": [20, 15, 9]},
        "responsible_person": "张三",
        "responsible_mobile": "13800138000",
    }

    def collect(kind: type[ProcessingEvent[Any]]) -> Callable[[], None]:
        def run() -> None:
            kind().collect_events(*points)

        return run

    rows: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = [
        ("replay 200 events", lambda: library.project(None, events), lambda: project_aggregate(None, events)),
        ("collect 50 aggregates", collect(library.Processing), collect(ProcessingEvent)),
    ]
    for label, state in (("an index entry", small), ("a risk point", large)):
        written = plain.encode(state)
        rows.append((f"write {label}", lambda s=state: fast.encode(s), lambda s=state: plain.encode(s)))
        rows.append((f"read {label}", lambda w=written: fast.decode(w), lambda w=written: plain.decode(w)))
    table = Table(title="The seam's reaches against the library's own way (µs per call, median)")
    for column in ("what", "hub", "library", "hub / library"):
        table.add_column(column, justify="left" if column == "what" else "right")
    for what, ours, theirs in rows:
        hub, lib = per_call(ours, args.rounds, 200), per_call(theirs, args.rounds, 200)
        table.add_row(what, f"{hub:.1f}", f"{lib:.1f}", f"{hub / lib:.2f}")
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
