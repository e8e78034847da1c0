"""`make chaos`: faults under an ERP load at half the hub's measured capacity, and what each cost.

    python -m bench.chaos [--outage 20] [--platform-outage 60] [--faults "registry killed,platform down"]
                          [--capacity 60,20] [--load-fraction 0.5]

A hub is started as `make run` starts it (on its own vhost and schemas). First its capacity is
measured, on this hub before any fault: registrations (RegisterEnterprise and two RegisterSigningKey),
then filings of the enterprises registered (CompileRegister, two SM2 signatures, SubmitRegister), each
by 24 ERP threads (the gateway serves 16 calls at a time) as fast as the hub answers, counted over 20 s
after 5 s of warm-up (`--capacity R,F` gives them instead, for repeat runs). An enterprise costs one
of each, so the hub takes C = 1 / (1/R + 1/F) enterprises a second; the load then offers
`--load-fraction` (½) of C registrations and as many filings a second, from crews of ERP threads
sharing a schedule of start times (bench/pacing.py, bench/chaos_erp.py), however slow the calls get.
One after another: RabbitMQ is
restarted, PostgreSQL is restarted, each kind of process is killed with SIGKILL and started again, a
department platform is down for a while. After each fault the run waits until the hub has caught up,
then counts events lost, effects applied twice and the time to recover. At the end the ERP starts no
new enterprise, finishes those it started, and the whole run is counted the same way.

What the ERP counts as accepted, and what the hub owes:

- Only an answer OK accepts: a registration once RegisterEnterprise answered its enterprise id, a
  filing once SubmitRegister answered its version. A call that failed is sent again later, unchanged
  (the same idempotency key, public key, version and signatures) until it is answered; a refusal
  outright (INVALID_ARGUMENT, FAILED_PRECONDITION …: nothing was stored) makes the filing compile anew.
- A call whose answer was lost (UNAVAILABLE, DEADLINE_EXCEEDED …) may or may not have been applied.
  It is not counted lost, and it cannot loosen the check either, because the hub's own stores say what
  was applied: every registration in the registry's store (answered or not) and every one answered OK
  must end with its filing view; every filing the filing service stored as submitted (answered or not)
  and every one answered OK must reach 安监's platform (AJJ-TEZ's inbox) as that (enterprise, version).
- "lost" counts what did not, by identity, never by count: a filing that arrived though its answer was
  lost cannot stand in for an accepted one that never did; a call lost before anything was stored is
  owed nothing. "applied twice" counts a filing view recorded twice and a department's answer recorded
  twice. Enterprises whose last write was still unanswered at the end are reported, and those unfinished.

It restarts RabbitMQ and PostgreSQL: don't run it whole where others share them. `--faults` picks
faults by name (process kills and the platform outage touch this run's hub alone).
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from bench.chaos_erp import Capacity, Crew, Erp, Load, measure, paced
from bench.chaos_report import COLUMNS, cells, publish
from bench.common import stop_on_signals
from bench.pacing import FILING, REGISTRATION, Tally, chosen, owed, twice
from departments.reference import control
from departments.reference.store import read_inbox
from services.backbone.store import open_store
from services.filing.application import FilingApplication
from services.filing.domain import filing_id
from services.filing.views import EnterpriseView, enterprise_view_id
from services.registry.application import RegistryApplication
from services.registry.domain import enterprise_id
from tests.conftest import Hub, isolated_hub_settings, procfile
from tests.e2e.filing_flow import setup_departments

CAPACITY_WORKERS, WARMUP, WINDOW = 24, 5.0, 20.0  # the gateway serves 16 calls at a time
VIEW_RECORDED = f"{EnterpriseView.__module__}:EnterpriseView.Recorded"
DELIVERY_RECORDED = "services.filing.domain:DeliveryLedger.Recorded"
SUBMITTED = "services.filing.domain:Filing.Submitted"
REGISTERED = "services.registry.domain:Enterprise.Registered"


def counts(hub: Hub) -> dict[str, Any]:
    """What the stores and 安监's inbox hold: registrations (as the ids of the filing views they must
    lead to) and views; filings submitted and delivered (as filing ids); answers recorded twice."""
    registry = open_store(RegistryApplication, hub.settings)
    filing = open_store(FilingApplication, hub.settings)
    try:
        registered = registry.recorder.select_notifications(1, 10**6, topics=[REGISTERED])
        views = [
            str(n.originator_id)
            for n in filing.recorder.select_notifications(1, 10**6, topics=[VIEW_RECORDED])
        ]
        submitted = filing.recorder.select_notifications(1, 10**6, topics=[SUBMITTED])
        recorded_answers = [
            vars(filing.mapper.to_domain_event(n))
            for n in filing.recorder.select_notifications(1, 10**6, topics=[DELIVERY_RECORDED])
        ]
    finally:
        registry.close()
        filing.close()
    inbox = read_inbox(hub.settings.runtime_dir / "platforms" / "AJJ-TEZ" / "inbox.sqlite")
    answers = [
        (str(a["originator_id"]), m["department"])
        for a in recorded_answers
        for m in a["moves"]
        if m["outcome"] == "acknowledged"
    ]
    return {
        "registered": {str(enterprise_view_id(n.originator_id)) for n in registered},
        "views": set(views),
        "views_twice": twice(views),
        "submitted": {str(n.originator_id) for n in submitted},
        "delivered": {str(filing_id(str(enterprise_id(r["uscc"])), int(r["version"]))) for r in inbox},
        "acknowledged_twice": twice(answers),
    }


def due(hub: Hub, load: Load) -> dict[str, set[str]]:
    """What the hub owes by now: what its stores hold and what it answered OK to the ERP."""
    found = counts(hub)
    registrations, filings = load.accepted()
    return {
        "registered": found["registered"],
        "accepted_registrations": {str(enterprise_view_id(e)) for e in registrations},
        "submitted": found["submitted"],
        "accepted_filings": {str(filing_id(e, v)) for e, v in filings},
    }


def missing(owing: dict[str, set[str]], found: dict[str, Any]) -> dict[str, set[str]]:
    return owed(**owing, views=found["views"], delivered=found["delivered"])


def settle(hub: Hub, owing: dict[str, set[str]], timeout: float = 300) -> float:
    """Seconds until everything owed so far is where it must be (the load goes on meanwhile: what it
    adds later is the next fault's business)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not any(missing(owing, counts(hub)).values()):
            return time.monotonic() - started
        time.sleep(0.5)
    return float("inf")


def back_after(tally: Tally, since: float, timeout: float = 120) -> float:
    """Seconds from `since` until the ERP's next registration and next filing went through."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        firsts = [tally.first_after(kind, since) for kind in (REGISTRATION, FILING)]
        if all(t is not None for t in firsts):
            return max(t for t in firsts if t is not None) - since
        time.sleep(0.1)
    return float("inf")


def restart_process(hub: Hub, *, name: str) -> None:
    hub.kill(name, signal.SIGKILL)
    hub.start(name)


def platform_down(hub: Hub, seconds: float) -> None:
    platform = hub.settings.runtime_dir / "platforms" / "AJJ-TEZ"
    control.write(platform, control.Behaviour("down"))
    try:
        time.sleep(seconds)
    finally:
        control.write(platform, control.Behaviour("accept"))


def rabbitmq_restarted(outage: float) -> None:
    subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True)
    time.sleep(outage)
    subprocess.run(["rabbitmqctl", "-q", "start_app"], check=True)


def postgresql_restarted() -> None:
    cluster = os.listdir("/etc/postgresql")[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"], check=True)


def faults(outage: float, platform_outage: float) -> dict[str, Callable[[Hub], object]]:
    """Every fault, by name, in the order they are put on the hub."""
    found: dict[str, Callable[[Hub], object]] = {
        "RabbitMQ restarted": lambda _: rabbitmq_restarted(outage),
        "PostgreSQL restarted": lambda _: postgresql_restarted(),
        "department platform down": lambda hub: platform_down(hub, platform_outage),
    }
    for name in procfile():
        if not name.startswith("platform"):
            found[f"{name} killed (SIGKILL)"] = functools.partial(restart_process, name=name)
    return found


def run(
    outage: float = 20.0,
    platform_outage: float = 60.0,
    only: str | None = None,
    capacity: Capacity | None = None,
    load_fraction: float = 0.5,
    on_row: Callable[[dict[str, Any]], None] | None = None,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """The chosen faults in turn (all by default); `on_row` sees each fault's row as soon as the hub
    has recovered from it. Answers the report: capacity, load, the whole run, a row per fault."""
    acts = faults(outage, platform_outage)
    names = chosen(acts, only)
    rows: list[dict[str, Any]] = []
    crews: list[Crew] = []
    with tempfile.TemporaryDirectory() as tmp, isolated_hub_settings(Path(tmp)) as settings:
        hub = Hub(settings, Path(tmp))
        hub.env["HUB_ADAPTER_MAX_ATTEMPTS"] = "40"  # the platform's outage must not park deliveries
        tally = Tally()
        erp = Erp.connect(hub.gateway_address, hub.registration_token, tally)
        load = Load(erp)
        try:
            hub.start_all()
            setup_departments(hub)
            if capacity is None:
                say(f"measuring capacity: {CAPACITY_WORKERS} ERP threads, {WINDOW:g} s after {WARMUP:g} s …")
                capacity = measure(
                    load, lambda: settle(hub, due(hub, load)), CAPACITY_WORKERS, WARMUP, WINDOW
                )
            say(f"capacity: {capacity.registrations:g} registrations/s, {capacity.filings:g} filings/s")
            settle(hub, due(hub, load))
            rate = load_fraction * capacity.enterprises
            say(f"load: {rate:.2f} registrations/s and {rate:.2f} filings/s")
            crews = paced(load, rate)
            time.sleep(10)
            faults_began = time.monotonic()
            for fault in names:
                before, refused = counts(hub), tally.refusals()
                acts[fault](hub)
                # Recovery: from the end of the fault (the broker, database or process started
                # again) until everything owed by then has arrived where it must; and until the
                # ERP's next registration and filing went through.
                ended = time.monotonic()
                owing = due(hub, load)
                recovered = settle(hub, owing)
                back = back_after(tally, ended)
                time.sleep(5)  # the load goes on a while before the next fault
                row = _row(fault, before, counts(hub), owing, recovered, tally.refusals() - refused)
                rows.append({**row, "erp_back_s": round(back, 1)})
                if on_row:
                    on_row(rows[-1])
            faults_ended = time.monotonic()
            # The whole run: no new enterprises, those started finished, everything arrived once.
            load.drain()
            for crew in crews:
                crew.end()
            time.sleep(3)
            owing = due(hub, load)
            recovered = settle(hub, owing)
            start: dict[str, Any] = {"registered": set()}
            rows.append(
                {
                    **_row("whole run", start, counts(hub), owing, recovered, tally.refusals()),
                    "erp_back_s": 0.0,
                }
            )
            if on_row:
                on_row(rows[-1])
        finally:
            for crew in crews:
                crew.stop.set()
            erp.close()
            hub.stop()
    return {
        "capacity": {
            "registrations_per_s": capacity.registrations,
            "filings_per_s": capacity.filings,
            "enterprises_per_s": round(capacity.enterprises, 2),
            "measured": capacity.measured,
            "erp_cores": list(capacity.erp_cores),
            "workers": CAPACITY_WORKERS,
            "window_s": WINDOW,
        },
        "load": {
            "fraction": load_fraction,
            "target_per_s": {REGISTRATION: round(rate, 2), FILING: round(rate, 2)},
            **tally.rates(faults_began, faults_ended),  # offered and achieved, while faults were on
            "during_s": round(faults_ended - faults_began, 1),
            "workers_per_crew": len(crews[0].threads),
            "starts_dropped": sum(c.schedule.dropped for c in crews if c.schedule),
        },
        "whole_run": {
            "registrations": tally.count(REGISTRATION),
            "filings": tally.count(FILING),
            "calls_refused": dict(tally.refused),
            "unanswered_at_end": load.unanswered(),
            "unfinished_at_end": load.unfinished(),
        },
        "faults": rows,
    }


def _row(
    fault: str,
    before: dict[str, Any],
    after: dict[str, Any],
    owing: dict[str, set[str]],
    recovered: float,
    erp_errors: int,
) -> dict[str, Any]:
    gone = missing(owing, after)
    return {
        "fault": fault,
        "lost": len(gone["registrations"]) + len(gone["filings"]),
        "twice": after["views_twice"] + after["acknowledged_twice"],
        "recovery_s": round(recovered, 1),
        "load_during": len(after["registered"]) - len(before["registered"]),
        "erp_errors": erp_errors,
    }


def parse_capacity(text: str) -> Capacity:
    registrations, _, filings = text.partition(",")
    try:
        return Capacity(float(registrations), float(filings), measured=False)
    except ValueError:
        raise argparse.ArgumentTypeError(
            "--capacity takes REGISTRATIONS,FILINGS a second, e.g. 60,20"
        ) from None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--outage", type=float, default=20.0, help="seconds RabbitMQ stays down")
    parser.add_argument("--platform-outage", type=float, default=60.0, help="seconds a platform stays down")
    parser.add_argument(
        "--faults", help='only these, by part of their names: "registry killed,platform down"'
    )
    parser.add_argument(
        "--capacity", type=parse_capacity, help="REGISTRATIONS,FILINGS a second: not measured"
    )
    parser.add_argument(
        "--load-fraction", type=float, default=0.5, help="of the capacity, offered under faults"
    )
    args = parser.parse_args()
    try:
        chosen(faults(0, 0), args.faults)
    except ValueError as error:
        parser.error(str(error))
    stop_on_signals()
    console = Console()
    console.print("fault-by-fault (each row once the hub has caught up):")

    def show_row(row: dict[str, Any]) -> None:
        console.print("  " + " | ".join(f"{c}: {v}" for c, v in zip(COLUMNS, cells(row), strict=True)))

    report = run(
        args.outage,
        args.platform_outage,
        args.faults,
        args.capacity,
        args.load_fraction,
        show_row,
        console.print,
    )
    raise SystemExit(0 if publish(report, console) else 1)


if __name__ == "__main__":
    main()
