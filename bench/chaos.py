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
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from departments.reference import control
from departments.reference.store import read_inbox
from services.backbone.store import open_store
from services.filing.application import FilingApplication
from services.filing.views import EnterpriseView
from services.registry.application import RegistryApplication
from tests.conftest import Hub, isolated_hub_settings, procfile
from tests.e2e.filing_flow import Filer, setup_departments


class Load:
    """An ERP that keeps registering enterprises and filing their registers."""

    def __init__(self, hub: Hub) -> None:
        self.hub, self.stop = hub, threading.Event()
        self.filed: list[tuple[Filer, int]] = []
        self.errors = 0
        self.n = 1000

    def run(self) -> None:
        while not self.stop.is_set():
            self.n += 1
            try:
                filer = Filer.register(self.hub, self.n)
                self.filed.append((filer, filer.file()))
            except Exception:  # noqa: BLE001 - a fault is on: the ERP retries with the next one
                self.errors += 1
                time.sleep(0.5)


def counts(hub: Hub) -> dict[str, int]:
    """What the run compares: registrations and their filing views, filings and their deliveries."""
    registry = open_store(RegistryApplication, hub.settings)
    filing = open_store(FilingApplication, hub.settings)
    try:
        registered = registry.recorder.select_notifications(1, 10**6, topics=[_topic("Registered")])
        recorded = filing.recorder.select_notifications(1, 10**6, topics=[VIEW_RECORDED])
        views = [str(n.originator_id) for n in recorded]
        answers = [
            (str(n.originator_id), vars(filing.mapper.to_domain_event(n))["department"])
            for n in filing.recorder.select_notifications(1, 10**6, topics=[DELIVERY_RECORDED])
            if vars(filing.mapper.to_domain_event(n))["outcome"] == "acknowledged"
        ]
    finally:
        registry.close()
        filing.close()
    inbox = read_inbox(hub.settings.runtime_dir / "platforms" / "AJJ-TEZ" / "inbox.sqlite")
    return {
        "registered": len(registered),
        "views": len(set(views)),
        "views_twice": len(views) - len(set(views)),
        "delivered": len({r["delivery_id"] for r in inbox}),
        "acknowledged_twice": len(answers) - len(set(answers)),
    }


VIEW_RECORDED = f"{EnterpriseView.__module__}:EnterpriseView.Recorded"
DELIVERY_RECORDED = "services.filing.domain:FilingDelivery.Recorded"


def _topic(event: str) -> str:
    return f"services.registry.domain:Enterprise.{event}"


def settle(hub: Hub, load: Load, timeout: float = 300) -> float:
    """Seconds until every registration has its view and every filing reached 安监."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        c = counts(hub)
        filed = len(load.filed)
        if c["views"] >= c["registered"] and c["delivered"] >= filed:
            return time.monotonic() - started
        time.sleep(1)
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
    "department platform down": lambda hub, outage: (
        control.write(hub.settings.runtime_dir / "platforms" / "AJJ-TEZ", control.Behaviour("down")),
        time.sleep(outage * 3),
        control.write(hub.settings.runtime_dir / "platforms" / "AJJ-TEZ", control.Behaviour("accept")),
    ),
}


def run(outage: float = 20.0) -> list[dict[str, Any]]:
    report = []
    with tempfile.TemporaryDirectory() as tmp, isolated_hub_settings(Path(tmp)) as settings:
        hub = Hub(settings, Path(tmp))
        hub.env["HUB_ADAPTER_MAX_ATTEMPTS"] = "40"  # the platform's outage must not park deliveries
        hub.start_all()
        try:
            setup_departments(hub)
            load = Load(hub)
            threading.Thread(target=load.run, daemon=True).start()
            time.sleep(10)
            kinds = {name: name for name in procfile() if not name.startswith("platform")}
            faults = dict(FAULTS)
            for name in kinds:
                faults[f"{name} killed (SIGKILL)"] = lambda hub, outage, n=name: restart_process(hub, n)
            for fault, act in faults.items():
                before = counts(hub)
                act(hub, outage)
                time.sleep(5)  # load goes on meanwhile
                recovered = settle(hub, load)
                after = counts(hub)
                report.append(
                    {
                        "fault": fault,
                        "lost": max(after["registered"] - after["views"], 0)
                        + max(len(load.filed) - after["delivered"], 0),
                        "twice": after["views_twice"] + after["acknowledged_twice"],
                        "recovery_s": round(recovered, 1),
                        "load_during": after["registered"] - before["registered"],
                    }
                )
            load.stop.set()
        finally:
            hub.stop()
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--outage", type=float, default=20.0, help="seconds a broker/platform stays down")
    args = parser.parse_args()
    report = run(args.outage)
    table = Table(title="Faults under continuous load")
    for column in ("fault", "events lost", "applied twice", "recovery (s)", "registrations meanwhile"):
        table.add_column(column)
    for row in report:
        table.add_row(
            row["fault"], str(row["lost"]), str(row["twice"]), str(row["recovery_s"]), str(row["load_during"])
        )
    Console().print(table)
    bad = [r for r in report if r["lost"] or r["twice"]]
    raise SystemExit(1 if bad else 0)


if __name__ == "__main__":
    main()
