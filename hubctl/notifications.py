"""`hubctl notifications …`: what was requested and sent, the local outbox, switching a channel down/up."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from hubctl.stores import store
from services.backbone.settings import Settings
from services.notifications.channels import control
from services.notifications.channels.outbox import Outbox

app = typer.Typer(help="Notifications: requests, sends, the outbox, channels.", no_args_is_help=True)


def _print(rows: list[dict[str, Any]], columns: tuple[str, ...], title: str, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row.get(c, "")) for c in columns))
    Console().print(table)


@app.command("outbox")
def outbox(
    channel: str = typer.Option("", help="Only this channel (sms, department)."),
    address: str = typer.Option("", help="Only to this mobile number or department code."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Messages the default adapters wrote to the local outbox (HUB_RUNTIME_DIR/outbox/), oldest first."""
    rows = Outbox.of(Settings.from_env()).read(channel, address)
    _print(rows, ("seq", "channel", "kind", "address", "text", "sent_at"), "Outbox", as_json)


@app.command("list")
def list_notifications(
    state: str = typer.Option("", help="requested, failed, sent or given_up."),
    kind: str = typer.Option("", help="adjacent_risk, danger_overdue, filing_rejected, …"),
    limit: int = typer.Option(200, help="At most this many."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Notifications in the order they were requested, with their state and attempts."""
    with store("notifications", Settings.from_env()) as app_:
        rows = app_.notifications(state, kind, limit)  # type: ignore[attr-defined]
    flat = [{**r, "to": r["recipient"]["address"] or r["recipient"]["name"]} for r in rows]
    _print(
        flat,
        ("notification_id", "kind", "channel", "to", "state", "attempts", "last_error"),
        "Notifications",
        as_json,
    )


@app.command("channel")
def channel(
    name: str = typer.Argument(..., help="sms or department."),
    mode: str = typer.Argument(..., help="down or up."),
    error: str = typer.Option("", help="The error a down channel reports."),
) -> None:
    """Switch a channel's default adapter down (every send fails, and is retried later) or up again."""
    directory = Outbox.of(Settings.from_env()).directory
    try:
        control.write(directory, name, mode, error)
    except ValueError as problem:
        typer.echo(f"refused: {problem}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{name}: {mode}")
