"""Fills the console's read model from the stores' history, for a hub that ran before its console.

    python -m console.rebuild --auditor-token-file var/auditor.token

The read model follows the events published after its queues exist. A hub upgraded to the console
has history before that: this reads it from the audit endpoint (every stored event of each upstream,
in notification order, as the auditors' StreamEvents gives it), from the console's tracking position
on, and applies it with the consumers' handlers and tracking. Its queues are declared first, so that
nothing published meanwhile is lost; what the queues then deliver again is a duplicate to the
tracking record. Run it with console-stream stopped (the two would contend for the same positions).
The audit's signed tree heads are not among the audited stores' events: each store's latest head is
asked of TreeHeadService (it covers every event the earlier ones did; the heads signed from now on
arrive on the console's queue).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import structlog
from hub.v1 import audit_pb2

from console.audit_client import TOKEN_HEADER, AuditClient
from console.queries.audit import STORES
from console.readmodel import audit_rows, registry_rows
from console.readmodel.handlers import CONSUMER, handlers, types_of
from console.readmodel.store import ConsoleApplication, open_console_store
from console.readmodel.work import ViewConsumer
from services.backbone import logging as hub_logging
from services.backbone import topology
from services.backbone.amqp import connect, raw_channel
from services.backbone.consumer import Delivery
from services.backbone.envelope import Envelope, event_id
from services.backbone.settings import Settings

log = structlog.get_logger(__name__)
PAGE = 500


def declare_queues(settings: Settings) -> None:
    """The console's queues exist from now on: events published from here wait for console-stream."""
    conn = connect(settings.amqp_uri)
    try:
        channel = raw_channel(conn)
        for upstream in topology.upstreams_of(CONSUMER):
            topology.declare_exchange(channel, settings, upstream)
            topology.declare_consumer_queue(channel, settings, CONSUMER, upstream)
    finally:
        conn.release()


def history(audit: AuditClient, token: str, upstream: str, after: int) -> Iterator[Envelope]:
    """The upstream's stored events after a position, as envelopes (the payloads the relay publishes);
    only the types the console applies (the audit's own store is not among them: see `latest_heads`)."""
    request = audit_pb2.StreamEventsRequest(
        cursor=f"{upstream}={after}", services=[upstream], event_types=types_of(upstream)
    )
    previous = after
    for answer in audit._stub().StreamEvents(request, metadata=[(TOKEN_HEADER, token)], timeout=3600):
        e = answer.event
        yield Envelope(
            event_id=event_id(upstream, e.originator_id, e.originator_version),
            type=e.type,
            schema_version=1,
            originator_id=e.originator_id,
            originator_version=e.originator_version,
            upstream=upstream,
            notification_id=e.notification_id,
            previous_id=previous,
            occurred_at=e.occurred_at.ToDatetime().isoformat() + "+00:00",
            correlation_id=e.correlation_id,
            enterprise_id=e.enterprise_id or None,
            payload=json.loads(e.payload_json),
        )
        previous = e.notification_id


def rebuild(app: ConsoleApplication, settings: Settings, audit: AuditClient, token: str) -> dict[str, int]:
    """Applies each upstream's history after the console's position; how many events each gave."""
    declare_queues(settings)
    registry_rows.load_names(app)
    applied: dict[str, int] = {}
    for upstream in topology.upstreams_of(CONSUMER):
        if upstream == "audit":
            continue
        consumer = ViewConsumer(app, handlers, settings, upstream)
        page: list[Delivery] = []
        applied[upstream] = 0
        for envelope in history(audit, token, upstream, consumer.position()):
            page.append(Delivery(0, envelope))
            if len(page) == PAGE:
                consumer._record(page)
                applied[upstream] += len(page)
                page = []
        if page:
            consumer._record(page)
            applied[upstream] += len(page)
        log.info("console_rebuilt", upstream=upstream, events=applied[upstream])
    heads = latest_heads(app, audit)
    log.info("console_rebuilt", upstream="audit", heads=heads)
    return applied


def latest_heads(app: ConsoleApplication, audit: AuditClient) -> int:
    """Keeps each store's latest signed head (a head the console holds already stays as it is);
    how many stores have one."""
    found = 0
    for store in STORES:
        head = audit.latest_head(store)
        if head is not None:
            app.execute(audit_rows.INSERT, audit_rows.head_row(head))
            found += 1
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--auditor-token-file", type=Path, required=True, help="the auditors' token")
    args = parser.parse_args()
    settings = Settings.from_env()
    hub_logging.configure("console-rebuild", settings.log_format)
    app = open_console_store(settings)
    try:
        applied = rebuild(
            app,
            settings,
            AuditClient(settings.audit_address),
            args.auditor_token_file.read_text(encoding="utf-8").strip(),
        )
    finally:
        app.close()
    print(", ".join(f"{upstream}: {n} events" for upstream, n in applied.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
