"""`hubctl subscriptions create|rotate|list`: departments' own AMQP subscriptions (a broker user that
reads only its department's queue)."""

from __future__ import annotations

import json

import typer

from departments import subscriptions
from hubctl.status import queue_depth
from hubctl.tables import JSON_HELP, Column, show
from services.backbone.settings import Settings

app = typer.Typer(help="Departments' own AMQP subscriptions.", no_args_is_help=True)


@app.command("create")
def create(department: str, rotate: bool = typer.Option(False, help="Issue a new password.")) -> None:
    """Create (or rotate) a department's broker user; prints its credentials once."""
    made = subscriptions.create(Settings.from_env(), department, rotate=rotate)
    typer.echo(
        json.dumps(
            {
                "user": made.user,
                "password": made.password,
                "queue": made.queue,
                "heads_queue": made.heads_queue,
                "amqp_uri": made.amqp_uri,
            }
        )
    )


@app.command("rotate")
def rotate(department: str) -> None:
    """Issue a new password for a department's broker user."""
    create(department, rotate=True)


COLUMNS = (
    Column("department", "department", whole=True),
    Column("ready", "waiting", whole=True, justify="right"),
    Column("consumers", "reading", whole=True, justify="right"),
    Column("user", "broker user", keep=1, whole=True),
    Column("queue", "queue", keep=2, whole=True),
)


@app.command("list")
def list_subscriptions(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Departments with a broker user: their queue, the filings waiting in it, whether it is read."""
    settings = Settings.from_env()
    try:
        found = subscriptions.listed(settings)
    except (OSError, RuntimeError) as error:  # no rabbitmqctl here, or it refused
        typer.echo(f"cannot list the broker's users: {error}", err=True)
        raise typer.Exit(1) from None
    rows = []
    for item in found:
        ready, consumers = queue_depth(settings, item.queue)
        rows.append(
            {
                "department": item.department,
                "user": item.user,
                "queue": item.queue,
                "read_permission": item.read,
                "ready": ready,
                "consumers": consumers,
            }
        )
    show("AMQP subscriptions", COLUMNS, rows, as_json, empty="none (hubctl subscriptions create CODE)")
