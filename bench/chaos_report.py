"""`make chaos`'s report: the ERP load's table (capacity, rates offered and achieved under the faults,
the run's operations), a row per fault, bench/results/chaos-latest.json, and the verdict."""

from __future__ import annotations

import json
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.common import RESULTS
from bench.pacing import FILING, REGISTRATION

COLUMNS = (
    "fault",
    "events lost",
    "applied twice",
    "recovery (s)",
    "ERP served again after (s)",
    "registrations meanwhile",
    "ERP calls refused",
)


def cells(row: dict[str, Any]) -> tuple[str, ...]:
    keys = ("fault", "lost", "twice", "recovery_s", "erp_back_s", "load_during", "erp_errors")
    return tuple(str(row[k]) for k in keys)


def load_table(report: dict[str, Any]) -> Table:
    """Capacity, the rates offered and achieved while the faults were on, the run's operations."""
    capacity, load, whole = report["capacity"], report["load"], report["whole_run"]
    how = "given"
    if capacity["measured"]:
        cores = "/".join(f"{c:g}" for c in capacity["erp_cores"])
        how = f"{capacity['workers']} threads, {capacity['window_s']:g} s, ERP on {cores} cores"
    table = Table(title="ERP load")
    for column in ("", "registrations", "filings", ""):
        table.add_column(column)
    table.add_row(
        "capacity (/s)",
        f"{capacity['registrations_per_s']:g}",
        f"{capacity['filings_per_s']:g}",
        f"{how}; both: {capacity['enterprises_per_s']:g} enterprises/s",
    )
    target = load["target_per_s"]
    table.add_row(
        "offered, target (/s)",
        f"{target[REGISTRATION]:g}",
        f"{target[FILING]:g}",
        f"{load['fraction']:g} of it",
    )
    for what in ("offered", "achieved"):
        note = f"over {load['during_s']:g} s of faults"
        if what == "offered":
            note += f"; {load['workers_per_crew']} threads a crew, {load['starts_dropped']} starts dropped"
        table.add_row(
            f"{what}, during faults (/s)", f"{load[what][REGISTRATION]:g}", f"{load[what][FILING]:g}", note
        )
    refused = sum(whole["calls_refused"].values())
    table.add_row(
        "operations, whole run",
        str(whole["registrations"]),
        str(whole["filings"]),
        f"{refused} calls refused; at the end {whole['unanswered_at_end']} unanswered,"
        f" {whole['unfinished_at_end']} unfinished",
    )
    return table


def fault_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="Faults under the load")
    for column in COLUMNS:
        table.add_column(column)
    for row in rows:
        table.add_row(*cells(row))
    return table


def publish(report: dict[str, Any], console: Console) -> bool:
    """Shows the tables and writes the JSON; True when nothing was lost or applied twice and the hub
    and the ERP always came back."""
    console.print(load_table(report))
    console.print(fault_table(report["faults"]))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "chaos-latest.json"
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path.write_text(json.dumps({"when": stamp, **report}, indent=2, ensure_ascii=False), encoding="utf-8")
    console.print(f"written: {path}")
    bad = [
        r
        for r in report["faults"]
        if r["lost"] or r["twice"] or float("inf") in (r["recovery_s"], r["erp_back_s"])
    ]
    return not bad
