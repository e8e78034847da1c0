"""What the console's consumer does with each upstream's events: rows of the read model, and a line
in the events index for every event about an enterprise (the auditor's and the danger's timelines)."""

from __future__ import annotations

from console.readmodel import activity_rows, audit_rows, filing_rows, registry_rows
from console.readmodel.summaries import LINES, summary
from console.readmodel.work import ViewWork
from services.backbone.envelope import Envelope
from services.backbone.handlers import Handlers

CONSUMER = "console"
UPSTREAM_OF = {  # an event type's aggregate → the service that stores it
    "Enterprise": "registry",
    "Department": "registry",
    "RiskPoint": "riskpoints",
    "HiddenDanger": "dangers",
    "EnforcementCase": "dangers",
    "Inspection": "dangers",
    "Filing": "filing",
    "FilingDelivery": "filing",
    "DeliveryLedger": "filing",
}

handlers = Handlers(CONSUMER)
registry_rows.register(handlers)
filing_rows.register(handlers)
activity_rows.register(handlers)
audit_rows.register(handlers)


def index(uow: ViewWork, envelope: Envelope) -> None:
    """The event's line in its enterprise's timeline (events of no enterprise have none)."""
    if not envelope.enterprise_id:
        return
    uow.run(
        "INSERT INTO @events (upstream, notification_id, enterprise_id, originator_id, originator_version, "
        "type, occurred_at, summary) VALUES (%(upstream)s, %(nid)s, %(enterprise_id)s, %(originator_id)s, "
        "%(version)s, %(type)s, %(at)s, %(summary)s) ON CONFLICT (upstream, notification_id) DO NOTHING",
        upstream=envelope.upstream,
        nid=envelope.notification_id,
        enterprise_id=str(envelope.enterprise_id),
        originator_id=envelope.originator_id,
        version=envelope.originator_version,
        type=envelope.type,
        at=envelope.occurred_at,
        summary=summary(envelope.type, envelope.payload, registry_rows.department_name),
    )


def types_of(upstream: str) -> list[str]:
    """The event types of an upstream the console applies."""
    return sorted(t for u, t in handlers._by_key if u == upstream)


def _index_everything(handlers: Handlers) -> None:
    for type_ in LINES:
        upstream = UPSTREAM_OF[type_.split(".", 1)[0]]
        if (upstream, type_) in handlers._by_key:  # one main handler per type: the index joins it
            handlers.also(upstream, type_)(index)
        else:
            handlers.on(upstream, type_)(index)


_index_everything(handlers)
