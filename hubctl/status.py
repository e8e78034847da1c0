"""`hubctl status`: store heads, relay positions and lag, consumer queues, parked messages."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from hubctl.stores import available_services, store
from services.backbone import topology
from services.backbone.amqp import CONNECTION_ERRORS, connect, raw_channel
from services.backbone.relay import relay_position, relay_read_position
from services.backbone.replay import parked_messages
from services.backbone.settings import Settings


def queue_depth(settings: Settings, queue: str) -> tuple[int | None, int | None]:
    """(messages ready, consumers) of a queue, or (None, None) if it does not exist."""
    try:
        conn = connect(settings.amqp_uri)
    except CONNECTION_ERRORS:
        return None, None
    try:
        channel = raw_channel(conn)
        _, messages, consumers = channel.queue_declare(queue, passive=True)
        return messages, consumers
    except CONNECTION_ERRORS:
        return None, None
    finally:
        conn.release()


def collect(settings: Settings) -> dict[str, Any]:
    """Everything `hubctl status` shows, as data (tests and --json read it)."""
    services: dict[str, Any] = {}
    for service in available_services():
        with store(service, settings) as app:
            head = app.recorder.max_notification_id() or 0
            services[service] = {
                "head": head,
                "relay_position": relay_position(app),
                "relay_read": relay_read_position(app),
                "relay_lag": head - relay_read_position(app),
                "consumers": {},
                "parked": [
                    {
                        "id": str(p.id),
                        "upstream": p.upstream,
                        "key": p.key,
                        "type": p.envelope.get("type", "?"),
                        "error": p.error,
                    }
                    for p in parked_messages(app)
                ],
            }
            for upstream in topology.upstreams_of(service):
                ready, consumers = queue_depth(settings, settings.queue(service, upstream))
                services[service]["consumers"][upstream] = {
                    "queue": settings.queue(service, upstream),
                    "ready": ready,
                    "consumers": consumers,
                    "position": app.process_recorder.max_tracking_id(upstream) or 0,
                }
    for info in services.values():
        for upstream, consumer in info["consumers"].items():
            published = services.get(upstream, {}).get("relay_position", 0)
            consumer["lag"] = max(published - consumer["position"], 0)
    return services


def status(as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON.")) -> None:
    """Show per service: store head, relay position and lag, consumers and parked messages."""
    data = collect(Settings.from_env())
    if as_json:
        import json

        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console = Console()
    stores = Table(title="Stores and relays")
    for column in ("service", "head", "relay position", "lag", "parked"):
        stores.add_column(column, justify="right" if column != "service" else "left")
    for service, info in data.items():
        stores.add_row(
            service,
            str(info["head"]),
            str(info["relay_position"]),
            str(info["relay_lag"]),
            str(len(info["parked"])),
        )
    console.print(stores)
    consumers = Table(title="Consumers")
    for column in ("queue", "ready", "consumers", "position", "lag"):
        consumers.add_column(column, justify="right" if column != "queue" else "left")
    for info in data.values():
        for consumer in info["consumers"].values():
            consumers.add_row(
                consumer["queue"],
                str(consumer["ready"] if consumer["ready"] is not None else "—"),
                str(consumer["consumers"] if consumer["consumers"] is not None else "—"),
                str(consumer["position"]),
                str(consumer["lag"]),
            )
    console.print(consumers)
    parked_rows = [(s, p) for s, info in data.items() for p in info["parked"]]
    if parked_rows:
        table = Table(title="Parked messages")
        for column in ("service", "id", "from", "type", "error"):
            table.add_column(column)
        for service, p in parked_rows:
            table.add_row(service, p["id"], f"{p['upstream']} #{p['key']}", p["type"], p["error"][:80])
        console.print(table)
