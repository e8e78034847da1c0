"""`hubctl notifications …`: what was requested and sent, the local outbox, switching a channel down/up."""

from __future__ import annotations

import typer

from hubctl.stores import store
from hubctl.tables import JSON_HELP, Column, show
from services.backbone.settings import Settings
from services.notifications.channels import control
from services.notifications.channels.outbox import Outbox

app = typer.Typer(help="Notifications: requests, sends, the outbox, channels.", no_args_is_help=True)


OUTBOX = (
    Column("seq", "#", whole=True, justify="right"),
    Column("channel", "channel", whole=True),
    Column("address", "to", whole=True),
    Column("text", "text", width=20),
    Column("kind", "kind", keep=1, whole=True),
    Column("sent_at", "sent", keep=2, whole=True),
)
NOTIFICATIONS = (
    Column("kind", "kind", width=12, sub="notification_id"),
    Column("to", "to", whole=True),
    Column("state", "state", whole=True),
    Column("attempts", "tries", keep=1, whole=True, justify="right"),
    Column("channel", "channel", keep=1, whole=True),
    Column("last_error", "last error", keep=2, width=16),
)


@app.command("outbox")
def outbox(
    channel: str = typer.Option("", help="Only this channel (sms, department)."),
    address: str = typer.Option("", help="Only to this mobile number or department code."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Messages the default adapters wrote to the local outbox (HUB_RUNTIME_DIR/outbox/), oldest first."""
    rows = Outbox.of(Settings.from_env()).read(channel, address)
    show("Outbox", OUTBOX, rows, as_json, empty="empty")


@app.command("list")
def list_notifications(
    state: str = typer.Option("", help="requested, failed, sent or given_up."),
    kind: str = typer.Option("", help="adjacent_risk, danger_overdue, filing_rejected, …"),
    limit: int = typer.Option(200, help="At most this many."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Notifications in the order they were requested, with their state and attempts."""
    with store("notifications", Settings.from_env()) as app_:
        rows = app_.notifications(state, kind, limit)  # type: ignore[attr-defined]
    flat = [{**r, "to": r["recipient"]["address"] or r["recipient"]["name"]} for r in rows]
    show("Notifications", NOTIFICATIONS, flat, as_json, empty="none")


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
