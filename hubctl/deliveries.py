"""`hubctl deliveries …` and `hubctl subscriptions …`: the department exchange's operator side."""

from __future__ import annotations

import json

import amqp
import typer
from rich.console import Console
from rich.table import Table

from departments import subscriptions
from gateway.adapter import jobs
from services.backbone.amqp import ConfirmedChannel, connect, raw_channel
from services.backbone.settings import Settings
from services.kernel import filing_routes

app = typer.Typer(help="Filing deliveries to department platforms.", no_args_is_help=True)
subs = typer.Typer(help="Departments' own AMQP subscriptions.", no_args_is_help=True)


def parked(settings: Settings) -> list[tuple[dict, str]]:
    """Every parked delivery (left in place) with its last error."""
    conn = connect(settings.amqp_uri)
    found = []
    try:
        channel = raw_channel(conn)
        queue = filing_routes.parked_queue(settings)
        channel.queue_declare(queue, durable=True, auto_delete=False)
        while (message := channel.basic_get(queue)) is not None:
            headers = message.properties.get("application_headers") or {}
            found.append((jobs.from_bytes(message.body), str(headers.get("x-error", ""))))
        # closing without acks puts every message back
    finally:
        conn.release()
    return found


@app.command("parked")
def list_parked() -> None:
    """Deliveries that ran out of attempts, with their errors."""
    table = Table(title="Parked deliveries")
    for column in ("delivery", "department", "enterprise", "error"):
        table.add_column(column)
    for job, error in parked(Settings.from_env()):
        table.add_row(job["delivery_id"], job["department"], job["enterprise_name"], error)
    Console().print(table)


def replay_parked(settings: Settings, department: str = "") -> int:
    """Moves parked deliveries back to their departments' queues (in their order); returns how many."""
    conn = connect(settings.amqp_uri)
    moved = 0
    try:
        channel = raw_channel(conn)
        out = ConfirmedChannel(conn)
        queue = filing_routes.parked_queue(settings)
        channel.queue_declare(queue, durable=True, auto_delete=False)
        skipped = []
        while (message := channel.basic_get(queue)) is not None:
            job = jobs.from_bytes(message.body)
            tag = message.delivery_info["delivery_tag"]
            if department and job["department"] != department:
                skipped.append(tag)
                continue
            target = filing_routes.delivery_queue(settings, job["department"])
            out.channel.queue_declare(target, durable=True, auto_delete=False)
            out.publish(amqp.Message(message.body, delivery_mode=2), "", target)
            out.wait()
            channel.basic_ack(tag)
            moved += 1
        for tag in skipped:
            channel.basic_reject(tag, True)
    finally:
        conn.release()
    return moved


@app.command("replay")
def replay(department: str = typer.Option("", help="Only this department's.")) -> None:
    """Deliver parked filings again (the platforms deduplicate by delivery id)."""
    typer.echo(f"replayed {replay_parked(Settings.from_env(), department)} parked deliveries")


@subs.command("create")
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


@subs.command("rotate")
def rotate(department: str) -> None:
    """Issue a new password for a department's broker user."""
    create(department, rotate=True)
