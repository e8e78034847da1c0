"""`hubctl deliveries list|parked|replay`: filings on their way to department platforms."""

from __future__ import annotations

import amqp
import typer

from gateway.adapter import jobs
from hubctl.rpc import service
from hubctl.tables import JSON_HELP, Column, show
from services.backbone.amqp import ConfirmedChannel, connect, raw_channel
from services.backbone.settings import Settings
from services.kernel import filing_routes

app = typer.Typer(help="Filing deliveries to department platforms.", no_args_is_help=True)


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


PARKED = (
    Column("enterprise_name", "enterprise", width=12, sub="delivery_id"),
    Column("department", "department", whole=True),
    Column("error", "error", keep=1, width=16),
)


@app.command("parked")
def list_parked(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Deliveries that ran out of attempts, with their errors (each under its delivery id)."""
    rows = [{**job, "error": error} for job, error in parked(Settings.from_env())]
    show("Parked deliveries", PARKED, rows, as_json, empty="none")


COUNTS = (
    Column("department", "department", whole=True),
    Column("pending", "pending", whole=True, justify="right"),
    Column("parked", "parked", whole=True, justify="right"),
    Column("acknowledged", "acknowledged", whole=True, justify="right"),
    Column("rejected", "rejected", keep=1, whole=True, justify="right"),
    Column("delivered", "delivered", keep=1, whole=True, justify="right"),
    Column("total", "total", keep=2, whole=True, justify="right"),
)
OPEN = (
    Column("enterprise_id", "enterprise", whole=True),
    Column("version", "version", whole=True, justify="right"),
    Column("state", "state", whole=True),
)


@app.command("list")
def list_deliveries(
    department: str = typer.Option("", help="Only this department, with its unanswered filings."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Each department's filings by state, from the filing ledger: pending (not delivered yet),
    delivered (no answer yet), parked (out of attempts: `hubctl deliveries replay`), acknowledged,
    rejected."""
    with service("filing", timeout=300) as filing:
        found = filing.deliveries(department)
    if as_json:
        show("", COUNTS, found["departments"], as_json=True, data=found)
        return
    show("Deliveries by department", COUNTS, found["departments"], empty="no filing submitted yet")
    if department:
        show(f"{department}: not answered yet", OPEN, found["open"], empty="none")


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
