"""`make chaos`: faults under continuous load, and what each cost.

    python -m bench.chaos [--outage 20]

A hub is started as `make run` starts it (on its own vhost and schemas); an ERP loop registers
enterprises and files their registers the whole time. One after another: RabbitMQ is restarted,
PostgreSQL is restarted, each kind of process is killed with SIGKILL and started again, and a
department platform is down for a while. After each fault the run waits until the hub has caught
up, then counts: events lost (registrations with no filing view, filings a platform never got),
effects applied twice (a view recorded twice, a delivery stored twice), and the time to recover.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.table import Table

from bench.common import RESULTS, stop_on_signals
from departments.reference import control
from departments.reference.store import read_inbox
from services.backbone.store import open_store
from services.filing.application import FilingApplication
from services.filing.views import EnterpriseView, enterprise_view_id
from services.registry.application import RegistryApplication
from tests.conftest import Hub, isolated_hub_settings, procfile
from tests.e2e.filing_flow import Filer, setup_departments


class Load:
    """An ERP that keeps registering enterprises and filing their registers."""

    def __init__(self, hub: Hub) -> None:
        self.hub, self.stop = hub, threading.Event()
        self.filed: list[tuple[Filer, int]] = []
        self.filed_at: list[float] = []  # monotonic time each filing was accepted
        self.errors = 0
        self.n = 1000

    def back_after(self, since: float, timeout: float = 120) -> float:
        """Seconds from `since` until the ERP's next registration and filing went through."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            later = [t for t in self.filed_at[-50:] if t > since]
            if later:
                return later[0] - since
            time.sleep(0.1)
        return float("inf")

    def run(self) -> None:
        while not self.stop.is_set():
            self.n += 1
            try:
                filer = Filer.register(self.hub, self.n)
                self.filed.append((filer, filer.file()))
                self.filed_at.append(time.monotonic())
            except (Exception, pytest.fail.Exception):  # noqa: BLE001 - a fault is on: the ERP
                self.errors += 1  # retries with the next one (a wait that timed out fails as pytest does)
                time.sleep(0.5)


def counts(hub: Hub) -> dict[str, Any]:
    """What the run compares: registrations and their filing views, filings and their deliveries."""
    registry = open_store(RegistryApplication, hub.settings)
    filing = open_store(FilingApplication, hub.settings)
    try:
        registered = registry.recorder.select_notifications(1, 10**6, topics=[_topic("Registered")])
        recorded = filing.recorder.select_notifications(1, 10**6, topics=[VIEW_RECORDED])
        views = [str(n.originator_id) for n in recorded]
        recorded_answers = [
            vars(filing.mapper.to_domain_event(n))
            for n in filing.recorder.select_notifications(1, 10**6, topics=[DELIVERY_RECORDED])
        ]
        answers = [
            (str(a["originator_id"]), a["department"])
            for a in recorded_answers
            if a["outcome"] == "acknowledged"
        ]
    finally:
        registry.close()
        filing.close()
    inbox = read_inbox(hub.settings.runtime_dir / "platforms" / "AJJ-TEZ" / "inbox.sqlite")
    return {
        # as the ids of the filing views they must lead to
        "registered": {str(enterprise_view_id(n.originator_id)) for n in registered},
        "views": set(views),
        "views_twice": len(views) - len(set(views)),
        "delivered": len({r["delivery_id"] for r in inbox}),
        "acknowledged_twice": len(answers) - len(set(answers)),
    }


VIEW_RECORDED = f"{EnterpriseView.__module__}:EnterpriseView.Recorded"
DELIVERY_RECORDED = "services.filing.domain:FilingDelivery.Recorded"


def _topic(event: str) -> str:
    return f"services.registry.domain:Enterprise.{event}"


def settle(hub: Hub, registered: set[str], filed: int, timeout: float = 300) -> float:
    """Seconds until every registration made so far has its view and every filing made so far reached
    安监 (the load goes on meanwhile: what it adds later is the next fault's business)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        c = counts(hub)
        if registered <= c["views"] and c["delivered"] >= filed:
            return time.monotonic() - started
        time.sleep(0.5)
    return float("inf")


def restart_process(hub: Hub, name: str) -> None:
    hub.kill(name, signal.SIGKILL)
    hub.start(name)


FAULTS: dict[str, Callable[[Hub, float], None]] = {
    "RabbitMQ restarted": lambda hub, outage: (
        subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True),
        time.sleep(outage),
        subprocess.run(["rabbitmqctl", "-q", "start_app"], check=True),
    ),
    "PostgreSQL restarted": lambda hub, outage: subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", os.listdir("/etc/postgresql")[0], "main", "restart"],
        check=True,
    ),
}


def run(
    outage: float = 20.0,
    platform_outage: float = 60.0,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Every fault in turn; `on_row` sees each fault's row as soon as the hub has recovered from it."""
    report: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, isolated_hub_settings(Path(tmp)) as settings:
        hub = Hub(settings, Path(tmp))
        hub.env["HUB_ADAPTER_MAX_ATTEMPTS"] = "40"  # the platform's outage must not park deliveries
        load = Load(hub)
        try:
            hub.start_all()
            setup_departments(hub)
            threading.Thread(target=load.run, daemon=True).start()
            time.sleep(10)
            faults = dict(FAULTS)
            faults["department platform down"] = lambda hub, _: platform_down(hub, platform_outage)
            for name in procfile():
                if not name.startswith("platform"):
                    faults[f"{name} killed (SIGKILL)"] = lambda hub, _, n=name: restart_process(hub, n)
            for fault, act in faults.items():
                before, errors = counts(hub), load.errors
                act(hub, outage)
                # Recovery: from the end of the fault (the broker, database or process started
                # again) until everything accepted before then has arrived where it must; and
                # until the ERP's next registration and filing went through.
                ended = time.monotonic()
                target, filed = counts(hub)["registered"], len(load.filed)
                recovered = settle(hub, target, filed)
                back = load.back_after(ended)
                time.sleep(5)  # the load goes on a while before the next fault
                row = _row(fault, before, counts(hub), target, filed, recovered, load.errors - errors)
                report.append({**row, "erp_back_s": round(back, 1)})
                if on_row:
                    on_row(report[-1])
            # The whole run: the load stops, everything it did must have arrived exactly once.
            load.stop.set()
            time.sleep(3)
            target, filed = counts(hub)["registered"], len(load.filed)
            recovered = settle(hub, target, filed)
            start = {"registered": set(), "views": set()}
            whole = _row("whole run", start, counts(hub), target, filed, recovered, load.errors)
            report.append({**whole, "erp_back_s": 0.0})
            if on_row:
                on_row(report[-1])
        finally:
            load.stop.set()
            hub.stop()
    return report


def _row(
    fault: str,
    before: dict[str, Any],
    after: dict[str, Any],
    target: set[str],
    filed: int,
    recovered: float,
    erp_errors: int,
) -> dict[str, Any]:
    return {
        "fault": fault,
        "lost": len(target - after["views"]) + max(filed - after["delivered"], 0),
        "twice": after["views_twice"] + after["acknowledged_twice"],
        "recovery_s": round(recovered, 1),
        "load_during": len(after["registered"]) - len(before["registered"]),
        "erp_errors": erp_errors,
    }


def platform_down(hub: Hub, seconds: float) -> None:
    platform = hub.settings.runtime_dir / "platforms" / "AJJ-TEZ"
    control.write(platform, control.Behaviour("down"))
    try:
        time.sleep(seconds)
    finally:
        control.write(platform, control.Behaviour("accept"))


COLUMNS = (
    "fault",
    "events lost",
    "applied twice",
    "recovery (s)",
    "ERP served again after (s)",
    "registrations meanwhile",
    "ERP calls refused",
)


def _cells(row: dict[str, Any]) -> tuple[str, ...]:
    return (
        row["fault"],
        str(row["lost"]),
        str(row["twice"]),
        str(row["recovery_s"]),
        str(row["erp_back_s"]),
        str(row["load_during"]),
        str(row["erp_errors"]),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--outage", type=float, default=20.0, help="seconds RabbitMQ stays down")
    parser.add_argument("--platform-outage", type=float, default=60.0, help="seconds a platform stays down")
    args = parser.parse_args()
    stop_on_signals()
    console = Console()
    console.print("fault-by-fault (each row once the hub has caught up):")

    def show_row(row: dict[str, Any]) -> None:
        console.print("  " + " | ".join(f"{c}: {v}" for c, v in zip(COLUMNS, _cells(row), strict=True)))

    report = run(args.outage, args.platform_outage, on_row=show_row)
    table = Table(title="Faults under continuous load")
    for column in COLUMNS:
        table.add_column(column)
    for row in report:
        table.add_row(*_cells(row))
    console.print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "chaos-latest.json"
    path.write_text(
        json.dumps({"when": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()), "faults": report}, indent=2)
    )
    console.print(f"written: {path}")
    bad = [r for r in report if r["lost"] or r["twice"] or float("inf") in (r["recovery_s"], r["erp_back_s"])]
    raise SystemExit(1 if bad else 0)


if __name__ == "__main__":
    main()
