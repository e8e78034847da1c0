"""How `hubctl audit` shows things: progress bars and rich tables."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from services.audit.offline import BundleReport
from services.audit.timeline import AggregateState
from services.audit.verify import StoreReport

console = Console()
CHAIN_STYLES = {"ALTERED": "red bold", "INSERTED": "red bold", "signed": "green"}


@contextmanager
def bars(totals: dict[str, int], verb: str) -> Iterator[Callable[[str, int], None]]:
    """One progress bar per store; yields advance(store, events)."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        tasks = {s: progress.add_task(f"{verb} {s}", total=max(t, 1)) for s, t in totals.items()}
        yield lambda store, n: progress.advance(tasks[store], n) if store in tasks else None


def history_table(enterprise: str, rows: list[dict[str, Any]]) -> None:
    table = Table(title=f"History of enterprise {enterprise} ({len(rows)} events)")
    for column in ("occurred at (UTC)", "service", "#", "type", "aggregate", "v", "chain", "payload"):
        table.add_column(column, overflow="fold")
    for r in rows:
        style = CHAIN_STYLES.get(r["chain"], "yellow")
        table.add_row(
            r["occurred_at"][:26],
            r["service"],
            str(r["notification_id"]),
            r["type"],
            r["originator_id"][:8],
            str(r["version"]),
            f"[{style}]{r['chain']}[/]",
            json.dumps(r["payload"], ensure_ascii=False)[:120],
        )
    console.print(table)


def state_tables(enterprise: str, moment: str, states: list[AggregateState]) -> None:
    if not states:
        console.print(f"Nothing about enterprise {enterprise} existed at {moment}.")
    for s in states:
        table = Table(title=f"{s.store} {s.aggregate_type} {s.aggregate_id} v{s.version} as of {moment}")
        table.add_column("field")
        table.add_column("value", overflow="fold")
        for key, value in s.state.items():
            table.add_row(key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
        console.print(table)


def verification(reports: list[StoreReport], anchors: int = 0) -> None:
    title = "Audit log verification" + (f", against {anchors} anchors" if anchors else "")
    table = Table(title=title)
    for column in ("service", "events", "linked", "heads", "signed to", "anchors", "anchored to"):
        table.add_column(column, justify="left" if column == "service" else "right")
    table.add_column("result")
    for r in reports:
        result = "[green]intact[/]" if r.ok else f"[red bold]{len(r.findings)} finding(s)[/]"
        figures = (r.events, r.linked, r.heads, r.signed_size, r.anchors, r.anchored_size)
        table.add_row(r.store, *map(str, figures), result)
    console.print(table)
    for r in reports:
        if r.first is not None:
            console.print(f"[red bold]FIRST[/] {r.first.describe()}")
            for finding in [f for f in r.findings if f is not r.first][:50]:
                console.print(f"      {finding.describe()}")
        if r.ok and r.events > r.signed_size:
            console.print(
                f"[yellow]{r.store}: {r.events - r.signed_size} events after the last signed head[/]"
            )
        if not r.links_checked:
            console.print(f"[yellow]{r.store}: write-time links not checked (no HUB_CHAIN_KEY here)[/]")
        if len(r.keys) > 1:
            keys = ", ".join(f"{k} ({n})" for k, n in sorted(r.keys.items()))
            console.print(f"[yellow]{r.store}: heads and anchors signed by several keys: {keys}[/]")


def stores_line(stores: dict[str, dict[str, int]]) -> None:
    for store, info in stores.items():
        events, size, anchors = info.get("events"), info.get("tree_size"), info.get("anchors")
        console.print(f"  {store}: {events} events in a signed log of {size}, {anchors} anchors with proofs")


def bundle_report(report: BundleReport) -> None:
    pin = "pinned" if report.pinned else "[yellow]not pinned (pass --public-key)[/]"
    held = f"; {report.anchors} anchors of your own" if report.anchors else ""
    console.print(f"enterprise {report.enterprise_id}; hub key {report.fingerprint} {pin}{held}")
    stores_line(report.stores)
    for problem in report.problems:
        console.print(f"[red bold]FAIL[/] {problem}")
    ok = "[green]OK: the bundle is the hub's signed log, complete for the enterprise[/]"
    console.print(ok if report.ok else "[red]FAILED[/]")
