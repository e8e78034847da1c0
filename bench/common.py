"""What every benchmark reports: a measured rate beside its raw baseline from the same run."""

from __future__ import annotations

import json
import os
import platform
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Result:
    name: str
    rate: float  # per second, the hub's figure
    baseline_name: str
    baseline: float  # per second, the raw figure measured in the same run
    unit: str = "events/s"
    target: float | None = None  # the ratio the issue asks for, when it names one
    extra: dict[str, float | str] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.rate / self.baseline if self.baseline else 0.0


SERVERS = {  # process names of the servers the hub shares
    "postgres": "PostgreSQL",
    "beam.smp": "RabbitMQ",
    "epmd": "RabbitMQ",
    "erl_child_setup": "RabbitMQ",
}


def cpu_seconds(groups: dict[str, Any], servers: bool = False) -> dict[str, float]:
    """CPU time (user + system) used so far by each named process group, children included: each
    hub process (and each platform a benchmark starts) runs in a session of its own, keyed by the
    Popen that leads it. With `servers`, PostgreSQL's and RabbitMQ's processes are counted too."""
    ticks = os.sysconf("SC_CLK_TCK")
    names = {proc.pid: name for name, proc in groups.items()}
    used = dict.fromkeys(names.values(), 0.0)
    if servers:
        used.update(dict.fromkeys(SERVERS.values(), 0.0))
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        command, fields = text[text.index("(") + 1 : text.rindex(")")], text.rsplit(")", 1)[1].split()
        group = int(fields[2])  # pgrp
        name = names.get(group) or (SERVERS.get(command) if servers else None)
        if name:  # its own time, and that of its children already gone (a closed connection's backend)
            used[name] += sum(int(f) for f in fields[11:15]) / ticks
    return used


def cpu_between(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before.get(name, 0.0) for name in after}


def quiet(groups: dict[str, Any], cores: float = 0.15, window: float = 1.0, timeout: float = 120.0) -> float:
    """Waits until these processes together use less than `cores` over `window` seconds (the hub
    finishing what a preparation left it: consumers catching up, notices to send, the audit chain);
    the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = cpu_seconds(groups)
        time.sleep(window)
        if sum(cpu_between(before, cpu_seconds(groups)).values()) < cores * window:
            break
    return time.monotonic() - started


def stop_on_signals() -> None:
    """SIGTERM or SIGHUP (a CI timeout, `kill`) unwinds like Ctrl-C, so the `finally` that stops a
    benchmark's hub runs and leaves no hub processes behind."""

    def interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)


@contextmanager
def timed() -> Iterator[Callable[[], float]]:
    started = time.perf_counter()
    finished: list[float] = []
    yield lambda: (finished[0] if finished else time.perf_counter()) - started
    finished.append(time.perf_counter())


def show(results: list[Result], title: str = "Benchmarks") -> None:
    table = Table(title=title)
    for column in ("benchmark", "hub", "raw baseline", "baseline", "ratio", "target"):
        table.add_column(column, justify="left" if column in ("benchmark", "raw baseline") else "right")
    for r in results:
        target = f"≥ {r.target:.0%}" if r.target else "—"
        mark = "" if r.target is None else (" ✓" if r.ratio >= r.target else " ✗")
        table.add_row(
            r.name,
            f"{r.rate:,.0f} {r.unit}",
            r.baseline_name,
            f"{r.baseline:,.0f} {r.unit}",
            f"{r.ratio:.1%}{mark}",  # one decimal: 39.5% is not 40%
            target,
        )
    Console().print(table)


def save(results: list[Result], stem: str = "bench") -> Path:
    """Writes the results as JSON and a bar chart of the ratios; returns the JSON path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    data = {
        "when": stamp,
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
        "results": [{**asdict(r), "ratio": r.ratio} for r in results],
    }
    path = RESULTS / f"{stem}-{stamp}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    (RESULTS / f"{stem}-latest.json").write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    chart(results, RESULTS / f"{stem}-latest.png")
    return path


def chart(results: list[Result], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.6 * len(results) + 1.5))
    names = [r.name for r in results]
    ratios = [r.ratio * 100 for r in results]
    ax.barh(names, ratios, color="#3b7dd8")
    for i, r in enumerate(results):
        if r.target:
            ax.plot([r.target * 100] * 2, [i - 0.4, i + 0.4], color="#d62728", linewidth=2)
        ax.text(ratios[i] + 1, i, f"{ratios[i]:.0f}%  ({r.rate:,.0f} {r.unit})", va="center", fontsize=8)
    ax.set_xlabel("hub rate as % of its raw baseline (red: target)")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
