"""Scale: a province-sized data set through the ERP bulk path, and what it costs to hold.

    python -m bench.scale                  # 100,000 enterprises, 2,000,000 risk points, 200,000 dangers
    python -m bench.scale --fraction 0.01  # the same shape, 1% of it
    python -m bench.scale --fraction 0.2 --until enterprises  # registrations only
    python -m bench.scale --fraction 0.05 --dangers 60000     # many dangers on a small province

Reports the load rate at the start and at the end of each phase (the per-event cost must stay
flat), every hub process's memory (RSS), the time to load a long-lived aggregate (snapshots on),
and the latency of 一镇一册 and of a filing status query at that size.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
from hub.v1 import danger_pb2 as dpb
from hub.v1 import danger_pb2_grpc, enterprise_pb2_grpc, riskpoint_pb2_grpc
from hub.v1 import enterprise_pb2 as epb
from hub.v1 import riskpoint_pb2 as rpb
from nameko.standalone.rpc import ClusterRpcProxy
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bench.common import cpu_between, cpu_seconds, stop_on_signals
from hubctl import demo_town
from services.backbone.store import open_store
from services.filing.application import FilingApplication
from services.registry.application import RegistryApplication
from tests.conftest import Hub, isolated_hub_settings
from tests.e2e.filing_flow import setup_departments

TOWNS = 20  # a province's enterprises spread over towns: 一镇一册 is per town


class Phase:
    """Times items loaded, in tenths, to compare the start with the end; with `cpu`, also what each
    process spent in each tenth (where a per-item cost grows shows there, not only that it grows)."""

    def __init__(self, name: str, total: int, cpu: Callable[[], dict[str, float]] | None = None) -> None:
        self.name, self.total, self.cpu = name, total, cpu
        self.stamps: list[float] = [time.perf_counter()]
        self.cpu_stamps: list[dict[str, float]] = []
        self.done = 0

    def start(self) -> Phase:
        """The clock starts when the phase's first item is sent, not when the run was planned."""
        self.stamps = [time.perf_counter()]
        self.cpu_stamps = [self.cpu()] if self.cpu else []
        return self

    def advance(self, n: int) -> None:
        self.done += n
        while len(self.stamps) <= 10 * self.done // max(self.total, 1) and len(self.stamps) <= 10:
            self.stamps.append(time.perf_counter())
            if self.cpu:
                self.cpu_stamps.append(self.cpu())

    def cpu_by_tenth(self) -> dict[str, list[float]]:
        """ms of CPU per item, by process, in each tenth of the phase."""
        tenth = self.total / 10
        found: dict[str, list[float]] = {}
        for before, after in zip(self.cpu_stamps, self.cpu_stamps[1:], strict=False):
            for name, used in cpu_between(before, after).items():
                found.setdefault(name, []).append(round(1000 * used / tenth, 2))
        return {name: ms for name, ms in found.items() if any(ms)}

    def tenths(self) -> list[float]:
        """Items per second in each tenth of the phase, in order."""
        tenth = self.total / 10
        return [tenth / (b - a) for a, b in zip(self.stamps, self.stamps[1:], strict=False) if b > a]

    def rates(self) -> tuple[float, float]:
        tenths = self.tenths()
        if len(tenths) < 2:
            return 0.0, 0.0
        return tenths[0], tenths[-1]


@contextmanager
def interruptible_pool(workers: int) -> Iterator[ThreadPoolExecutor]:
    """A thread pool whose queued calls are dropped when the run is stopped (Ctrl-C, SIGTERM): leaving
    a `with ThreadPoolExecutor` waits for every call submitted, a province's worth."""
    pool = ThreadPoolExecutor(workers)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def enterprise_profile(n: int) -> epb.EnterpriseProfile:
    profile = demo_town.profile(n)
    profile.town = f"第{n % TOWNS + 1}镇"
    return profile


def register_all(stub: Any, token: tuple, count: int, progress: Progress, phase: Phase) -> list[tuple]:
    task = progress.add_task("enterprises", total=count)

    def one(n: int) -> tuple:
        answer = stub.RegisterEnterprise(
            epb.RegisterEnterpriseRequest(profile=enterprise_profile(n), idempotency_key=f"scale-{n}"),
            metadata=token,
        )
        return answer.enterprise_id, (("x-hub-key-id", answer.key_id), ("x-hub-secret", answer.secret))

    found: dict[int, tuple] = {}
    with interruptible_pool(8) as pool:
        futures = {pool.submit(one, n): n for n in range(count)}
        for future in as_completed(futures):  # counted as they finish, not in submission order
            found[futures[future]] = future.result()
            progress.advance(task)
            phase.advance(1)
    return [found[n] for n in range(count)]


def risk_point_items(n: int, per: int) -> Iterator[rpb.RiskPointInput]:
    base = list(demo_town.risk_points(n))
    for i in range(per):
        item = rpb.RiskPointInput()
        item.CopyFrom(base[i % len(base)])
        item.external_id = f"SCALE-{n}-{i}"
        item.name = f"{item.name} {i + 1}"
        yield item


def import_all(
    stub: Any, enterprises: list[tuple], per: int, progress: Progress, phase: Phase
) -> list[list[str]]:
    task = progress.add_task("risk points", total=len(enterprises) * per)

    def one(index: int) -> list[str]:
        _, metadata = enterprises[index]
        items = list(risk_point_items(index, per))
        requests = iter(
            [rpb.ImportRiskPointsRequest(items=items[i : i + 500]) for i in range(0, len(items), 500)]
        )
        ids = []
        for answer in stub.ImportRiskPoints(requests, metadata=metadata):
            ids.extend(r.risk_point_id for r in answer.results if r.risk_point_id)
        return ids

    found = []
    with interruptible_pool(4) as pool:
        for ids in pool.map(one, range(len(enterprises))):
            found.append(ids)
            progress.advance(task, len(ids))
            phase.advance(len(ids))
    return found


def report_all(
    stub: Any, enterprises: list[tuple], points: list[list[str]], total: int, progress: Progress, phase: Phase
) -> None:
    task = progress.add_task("dangers", total=total)
    evidence = dpb.Evidence(
        uri="https://erp.example.cn/photo.jpg",
        hash_algorithm=dpb.HASH_ALGORITHM_SM3,
        digest=hashlib.new("sm3", b"photo").hexdigest(),
    )

    def one(k: int) -> None:
        index = k % len(enterprises)
        _, metadata = enterprises[index]
        stub.ReportDanger(
            dpb.ReportDangerRequest(
                risk_point_id=points[index][k % len(points[index])],
                inspection_type=dpb.INSPECTION_TYPE_ROUTINE,
                description=f"巡检发现隐患 {k}",
                evidence=[evidence],
                found_on="2016-09-01",
                reported_by="巡检员",
                idempotency_key=f"scale-danger-{k}",
            ),
            metadata=metadata,
        )

    with interruptible_pool(8) as pool:
        for _ in pool.map(one, range(total)):
            progress.advance(task)
            phase.advance(1)


def lag_by_consumer(settings: Any) -> dict[str, int]:
    """Events each relay and each consumer is behind its source, right now (only those behind)."""
    from hubctl.status import collect

    behind = {}
    for service, s in collect(settings).items():
        if s["relay_lag"] > 0:  # a store read between the head and the position can show -n
            behind[f"{service} relay"] = s["relay_lag"]
        for name, c in s["consumers"].items():
            if c["lag"] > 0:
                behind[f"{service} ← {name}"] = c["lag"]
    return behind


def drain(settings: Any, timeout: float = 1800) -> float:
    """Seconds until every relay has published its store and every consumer applied it."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not lag_by_consumer(settings):
            return round(time.monotonic() - started, 1)
        time.sleep(1)
    return float("inf")


def rss_of(hub: Hub) -> dict[str, float]:
    """MiB resident per hub process (the children the Procfile lines started)."""
    found = {}
    for name, proc in hub.procs.items():
        total = 0
        for pid in [proc.pid, *_children(proc.pid)]:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        found[name] = total / 1024
    return found


def _children(pid: int) -> list[int]:
    try:
        kids = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return kids + [k for kid in kids for k in _children(kid)]


def chart(result: dict[str, Any], path: Path) -> None:
    """Each phase's rate per tenth as a share of its first tenth: flat lines are a flat per-item cost."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    for name, tenths in result["rates_by_tenth"].items():
        if tenths:
            shares = [100 * r / tenths[0] for r in tenths]
            ax.plot(range(1, len(shares) + 1), shares, marker="o", label=f"{name} ({tenths[0]:,.0f}/s first)")
    ax.axhline(100, color="#999999", linewidth=0.8)
    ax.set_xlabel("tenth of the phase")
    ax.set_ylabel("rate, % of the first tenth")
    ax.set_ylim(0, 130)
    size = ", ".join(f"{n:,} {name.replace('_', ' ')}" for name, n in result["size"].items())
    ax.set_title(f"Load rate through each phase ({size})", fontsize=10)
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def save_partial(figures: dict[str, Any]) -> None:
    """A province takes hours: each phase's figures are written when it ends, not only at the end."""
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    text = json.dumps(figures, ensure_ascii=False, indent=2)
    (out / "scale-partial.json").write_text(text, encoding="utf-8")


def timed(fn: Callable[[], Any], repeat: int = 5) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


PHASES = ("enterprises", "risk points", "dangers")


def run(fraction: float = 1.0, until: str = "dangers", dangers: int | None = None) -> dict[str, Any]:
    """Loads the phases in order up to and including `until`, then measures the queries."""
    enterprises_n = max(int(100_000 * fraction), TOWNS)
    per = 20
    dangers_n = dangers if dangers is not None else max(int(200_000 * fraction), 10)
    console = Console()
    with tempfile.TemporaryDirectory() as tmp, isolated_hub_settings(Path(tmp)) as settings:
        hub = Hub(settings, Path(tmp))
        hub.start_all()
        try:
            setup_departments(hub)
            channel = grpc.insecure_channel(hub.gateway_address)
            token = (("x-hub-registration-token", hub.registration_token),)

            def cpu() -> dict[str, float]:
                return cpu_seconds(hub.procs, servers=True)

            phases = {
                "enterprises": Phase("enterprises", enterprises_n, cpu),
                "risk points": Phase("risk points", enterprises_n * per, cpu),
                "dangers": Phase("dangers", dangers_n, cpu),
            }
            caught_up: dict[str, float] = {}
            lagging: dict[str, dict[str, int]] = {}
            cpu_ms: dict[str, dict[str, float]] = {}
            rss_after: dict[str, dict[str, float]] = {}

            def measured(name: str, load: Callable[[Phase], Any]) -> Any:
                """Loads a phase, then waits for the hub to catch up: CPU per item covers both."""
                before = cpu_seconds(hub.procs, servers=True)
                loaded = load(phases[name].start())
                lagging[name] = lag_by_consumer(settings)  # who is behind when the last item went in
                caught_up[name] = drain(settings)  # each phase starts on a hub that has caught up
                used = cpu_between(before, cpu_seconds(hub.procs, servers=True))
                cpu_ms[name] = {k: round(1000 * v / phases[name].total, 2) for k, v in used.items() if v > 0}
                rss_after[name] = rss_of(hub)
                start, end = phases[name].rates()
                console.print(
                    f"{name}: {start:,.0f}/s at the start, {end:,.0f}/s at the end, "
                    f"caught up after {caught_up[name]} s"
                )
                save_partial(
                    {
                        "rates": {
                            n: dict(zip(("start", "end"), phases[n].rates(), strict=True)) for n in cpu_ms
                        },
                        "caught_up_after_s": caught_up,
                        "behind_at_end_of_load": lagging,
                        "rates_by_tenth": {n: phases[n].tenths() for n in cpu_ms},
                        "cpu_ms_per_item_by_tenth": {n: phases[n].cpu_by_tenth() for n in cpu_ms},
                        "cpu_ms_per_item": cpu_ms,
                        "rss_mib_after_phase": rss_after,
                    }
                )
                return loaded

            with Progress(console=console) as progress:
                found = measured(
                    "enterprises",
                    lambda phase: register_all(
                        enterprise_pb2_grpc.EnterpriseServiceStub(channel),
                        token,
                        enterprises_n,
                        progress,
                        phase,
                    ),
                )
                if PHASES.index(until) >= 1:
                    points = measured(
                        "risk points",
                        lambda phase: import_all(
                            riskpoint_pb2_grpc.RiskPointServiceStub(channel), found, per, progress, phase
                        ),
                    )
                if PHASES.index(until) >= 2:
                    measured(
                        "dangers",
                        lambda phase: report_all(
                            danger_pb2_grpc.DangerServiceStub(channel),
                            found,
                            points,
                            dangers_n,
                            progress,
                            phase,
                        ),
                    )
            with ClusterRpcProxy(settings.nameko_config, timeout=600) as rpc:
                book = timed(lambda: rpc.filing.town_book("第1镇"), repeat=3)
                month = time.strftime("%Y-%m", time.gmtime())
                figures = timed(lambda: rpc.notifications.monthly_figures("第1镇", month), repeat=3)
                report = timed(lambda: rpc.notifications.publish_monthly_report("第1镇", month), repeat=1)
                status = timed(lambda: rpc.registry.get(found[0][0]))
            registry = open_store(RegistryApplication, settings)
            filing = open_store(FilingApplication, settings)
            from services.filing.riskpoint_views import register_id

            loads_register = PHASES.index(until) >= 1  # a register exists once risk points went in
            load = timed(lambda: filing.repository.get(register_id(found[0][0]))) if loads_register else 0.0
            head = registry.recorder.max_notification_id()
            result = {
                "size": {
                    key: n
                    for key, n, phase in (
                        ("enterprises", enterprises_n, "enterprises"),
                        ("risk_points", enterprises_n * per, "risk points"),
                        ("dangers", dangers_n, "dangers"),
                    )
                    if phase in cpu_ms
                },
                "rates": {
                    name: dict(zip(("start", "end"), phases[name].rates(), strict=True)) for name in cpu_ms
                },
                "rates_by_tenth": {name: phases[name].tenths() for name in cpu_ms},
                "cpu_ms_per_item_by_tenth": {name: phases[name].cpu_by_tenth() for name in cpu_ms},
                "caught_up_after_s": caught_up,
                "behind_at_end_of_load": lagging,
                "cpu_ms_per_item": cpu_ms,
                "rss_mib": rss_of(hub),
                "rss_mib_after_phase": rss_after,
                "aggregate_load_s": load,
                "town_book_s": book,
                "monthly_figures_s": figures,
                "monthly_report_s": report,
                "enterprise_get_s": status,
                "registry_events": head,
            }
            registry.close()
            filing.close()
        finally:
            hub.stop()
    return result


def main() -> None:
    stop_on_signals()
    parser = argparse.ArgumentParser()
    parser.add_argument("--fraction", type=float, default=1.0, help="share of the province-sized set")
    parser.add_argument("--until", choices=PHASES, default="dangers", help="the last phase to load")
    parser.add_argument("--dangers", type=int, help="dangers to report instead of the fraction's share")
    args = parser.parse_args()
    result = run(args.fraction, args.until, args.dangers)
    console = Console()
    table = Table(title=f"Scale: {result['size']}")
    for column in (
        "phase",
        "rate at start (/s)",
        "rate at end (/s)",
        "end / start",
        "hub caught up after (s)",
    ):
        table.add_column(column)
    for name, r in result["rates"].items():
        table.add_row(
            name,
            f"{r['start']:,.0f}",
            f"{r['end']:,.0f}",
            f"{r['end'] / r['start']:.0%}" if r["start"] else "—",
            str(result["caught_up_after_s"].get(name, "—")),
        )
    console.print(table)
    cpu = Table(title="CPU per item loaded, until the hub caught up (ms; 2 cores give 2,000 ms a second)")
    cpu.add_column("process")
    phases = list(result["cpu_ms_per_item"])
    for name in phases:
        cpu.add_column(name, justify="right")
    processes = sorted(
        {p for used in result["cpu_ms_per_item"].values() for p in used},
        key=lambda p: -sum(used.get(p, 0) for used in result["cpu_ms_per_item"].values()),
    )
    for process in processes:
        cpu.add_row(process, *(f"{result['cpu_ms_per_item'][n].get(process, 0):.2f}" for n in phases))
    cpu.add_row("all", *(f"{sum(result['cpu_ms_per_item'][n].values()):.2f}" for n in phases), style="bold")
    console.print(cpu)
    growth = Table(title="CPU per item in the first and the last tenth of each phase (ms)")
    growth.add_column("process")
    for name in phases:
        growth.add_column(f"{name}: first", justify="right")
        growth.add_column("last", justify="right")
    for process in processes:
        cells = []
        for name in phases:
            tenths = result["cpu_ms_per_item_by_tenth"][name].get(process) or [0.0]
            cells += [f"{tenths[0]:.2f}", f"{tenths[-1]:.2f}"]
        growth.add_row(process, *cells)
    console.print(growth)
    for name, behind in result["behind_at_end_of_load"].items():
        worst = ", ".join(f"{k} {v:,}" for k, v in sorted(behind.items(), key=lambda kv: -kv[1])[:4])
        console.print(f"behind when the last of the {name} went in: {worst or 'nothing'}")
    rss = Table(title="Memory per process (RSS, MiB)")
    rss.add_column("process")
    rss.add_column("MiB", justify="right")
    for name, mib in sorted(result["rss_mib"].items()):
        rss.add_row(name, f"{mib:,.0f}")
    console.print(rss)
    if "risk_points" in result["size"]:
        load_ms = result["aggregate_load_s"] * 1000
        console.print(f"load a long-lived aggregate (a risk point register, snapshots on): {load_ms:.1f} ms")
    console.print(f"一镇一册 of one town: {result['town_book_s'] * 1000:.0f} ms")
    console.print(f"monthly report figures of one town: {result['monthly_figures_s'] * 1000:.0f} ms")
    made = result["monthly_report_s"] * 1000
    console.print(f"monthly report of one town, HTML and PDF made and published: {made:.0f} ms")
    console.print(f"one enterprise's record: {result['enterprise_get_s'] * 1000:.1f} ms")
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "scale-latest.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    chart(result, out / "scale-latest.png")
    console.print(f"rate per tenth of each phase: {out / 'scale-latest.png'}")


if __name__ == "__main__":
    main()
