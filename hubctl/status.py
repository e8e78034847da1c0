"""`hubctl status`: each store's head and relay, the consumers, parked messages, and each process's
/metrics address and whether it answers.

The relay's position is how far it has read the store's notification log (what `lag` counts from);
the last published id is the last of those events that left the service. They differ when a store's
latest events are internal (views of other services' events, parked messages): the dangers store of a
fresh hub holds only such views, so its relay has read everything and published nothing. Shown alone
as "relay position 0, lag 0" beside a head of 65, the last published id looked like a stalled relay.
"""

from __future__ import annotations

import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import typer
from rich.console import Console

from hubctl.stores import CONSOLE, consuming_services, existing
from hubctl.tables import JSON_HELP, Column, print_json, show
from services.backbone import metrics, topology
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


def _no_store() -> dict[str, Any]:
    return {"exists": False, "head": 0, "relay_position": 0, "relay_read": 0, "relay_lag": 0, "parked": []}


def collect(settings: Settings) -> dict[str, Any]:
    """Every service's store and consumers as `hubctl status` shows them, as data (tests and --json)."""
    services: dict[str, Any] = {}
    for service in consuming_services():
        with existing(service, settings) as app:
            if app is None:
                services[service] = {**_no_store(), "consumers": {}, "publishes": service != CONSOLE}
                continue
            # the positions first, then the head: read in this order the lag is never below 0
            published, read = relay_position(app), relay_read_position(app)
            head = max(app.recorder.max_notification_id() or 0, read)
            services[service] = {
                "exists": True,
                "publishes": service != CONSOLE,  # the console's read model keeps its rows to itself
                "head": head,
                "relay_position": published,  # the last notification published (kept for scripts)
                "relay_read": read,  # how far the relay has read the log
                "relay_lag": head - read,
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


def answers(address: str, timeout: float = 1.0) -> bool:
    """Whether http://address/metrics answers with the hub's metrics."""
    try:
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=timeout) as response:  # noqa: S310
            return b"hub_" in response.read()
    except OSError:
        return False


def processes(settings: Settings) -> list[dict[str, Any]]:
    """Each process that announced its /metrics under the runtime folder, and whether it answers."""
    found = metrics.announced(settings)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answered = list(pool.map(lambda p: answers(str(p["address"])), found))
    return [{**p, "answers": ok} for p, ok in zip(found, answered, strict=True)]


STORES = (
    Column("service", "service", whole=True),
    Column("head", "head", whole=True, justify="right"),
    Column("relay_read", "relay position", whole=True, justify="right"),
    Column("relay_lag", "lag", whole=True, justify="right"),
    Column("relay_position", "last published", keep=1, whole=True, justify="right"),
    Column("parked_count", "parked", whole=True, justify="right"),
)
CONSUMERS = (
    Column("consumer", "consumer ← upstream", whole=True),
    Column("position", "position", whole=True, justify="right"),
    Column("lag", "lag", whole=True, justify="right"),
    Column("ready", "ready", keep=1, whole=True, justify="right"),
    Column("consumers", "consumers", keep=1, whole=True, justify="right"),
    Column("queue", "queue", keep=3, whole=True),
)
PARKED = (
    Column("service", "service", whole=True),
    Column("id", "id", whole=True),
    Column("from", "from", keep=1),
    Column("type", "type", keep=1),
    Column("error", "error", keep=2, width=20),
)
PROCESSES = (
    Column("process", "process", whole=True),
    Column("address", "metrics", whole=True),
    Column("answer", "answers", whole=True),
    Column("pid", "pid", keep=1, whole=True, justify="right"),
)


def status(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Show per service: store head, relay position and lag, consumers and parked messages; and each
    process's /metrics address and whether it answers."""
    settings = Settings.from_env()
    data = collect(settings)
    running = processes(settings)
    if as_json:
        print_json({**data, "processes": running})
        return
    console = Console()
    stores = [
        {
            **info,
            "service": service if info["exists"] else f"{service} (no store yet)",
            "parked_count": len(info["parked"]),
        }
        for service, info in data.items()
        if info.get("publishes", True)
    ]
    show("Stores and relays", STORES, stores, console=console)
    consumers = [
        {**c, "consumer": f"{service} ← {upstream}"}
        for service, info in data.items()
        for upstream, c in info["consumers"].items()
    ]
    show("Consumers", CONSUMERS, consumers, console=console)
    parked = [
        {**p, "service": service, "from": f"{p['upstream']} #{p['key']}"}
        for service, info in data.items()
        for p in info["parked"]
    ]
    if parked:
        show("Parked messages", PARKED, parked, console=console)
    shown = [{**p, "answer": "yes" if p["answers"] else "NO"} for p in running]
    show(
        "Processes (/metrics)",
        PROCESSES,
        shown,
        console=console,
        empty="none announced under the runtime folder",
    )
