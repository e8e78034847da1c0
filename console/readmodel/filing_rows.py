"""The read model's register versions, deliveries and campaigns (filing)."""

from __future__ import annotations

import json

from console.readmodel.work import ViewWork
from services.backbone.envelope import Envelope
from services.backbone.handlers import Handlers
from services.kernel import ledger_moves

UPSTREAM = "filing"
# A row's copy of its enterprise's town and name, read when the row is written; the registry's
# consumer writes them again when the enterprise registers or changes (registry_rows._copy_to_rows).
TOWN_OF = "COALESCE((SELECT town FROM @enterprises WHERE id = %(enterprise_id)s), '')"
NAME_OF = "COALESCE((SELECT name FROM @enterprises WHERE id = %(enterprise_id)s), '')"


def compiled(uow: ViewWork, envelope: Envelope) -> None:
    p = envelope.payload
    keys = {"enterprise_id": str(p["enterprise_id"]), "version": int(p["version"])}
    uow.run(
        "INSERT INTO @filings (enterprise_id, version, document_hash, reason, compiled_at) "
        "VALUES (%(enterprise_id)s, %(version)s, %(hash)s, %(reason)s, %(at)s) "
        "ON CONFLICT (enterprise_id, version) DO UPDATE SET document_hash = excluded.document_hash, "
        "reason = excluded.reason, compiled_at = excluded.compiled_at",
        hash=str(p.get("document_hash", "")),
        reason=str(p.get("reason", "")),
        at=envelope.occurred_at,
        **keys,
    )
    uow.run(
        "INSERT INTO @enterprises AS t (id, last_version) VALUES (%(enterprise_id)s, %(version)s) "
        "ON CONFLICT (id) DO UPDATE SET last_version = CASE WHEN excluded.last_version > t.last_version "
        "THEN excluded.last_version ELSE t.last_version END",
        **keys,
    )


def submitted(uow: ViewWork, envelope: Envelope) -> None:
    p = envelope.payload
    at = str(p.get("submitted_at") or envelope.occurred_at)
    keys = {"enterprise_id": str(p["enterprise_id"]), "version": int(p["version"])}
    uow.run(
        "INSERT INTO @filings (enterprise_id, version, document_hash, submitted_at) "
        "VALUES (%(enterprise_id)s, %(version)s, %(hash)s, %(at)s) "
        "ON CONFLICT (enterprise_id, version) DO UPDATE SET submitted_at = excluded.submitted_at",
        hash=str(p.get("document_hash", "")),
        at=at,
        **keys,
    )
    uow.run(
        "INSERT INTO @enterprises AS t (id, filed_version, first_submitted_at, last_submitted_at) "
        "VALUES (%(enterprise_id)s, %(version)s, %(at)s, %(at)s) ON CONFLICT (id) DO UPDATE SET "
        "filed_version = CASE WHEN excluded.filed_version > t.filed_version "
        "THEN excluded.filed_version ELSE t.filed_version END, "
        "first_submitted_at = CASE WHEN t.first_submitted_at IS NULL OR excluded.first_submitted_at "
        "< t.first_submitted_at THEN excluded.first_submitted_at ELSE t.first_submitted_at END, "
        "last_submitted_at = CASE WHEN t.last_submitted_at IS NULL OR excluded.last_submitted_at "
        "> t.last_submitted_at THEN excluded.last_submitted_at ELSE t.last_submitted_at END",
        at=at,
        **keys,
    )
    for department in sorted(set(p.get("departments") or [])):
        uow.run(
            "INSERT INTO @deliveries (enterprise_id, version, department, submitted_at, updated_at, town, "
            f"enterprise_name) VALUES (%(enterprise_id)s, %(version)s, %(department)s, %(at)s, %(at)s, "
            f"{TOWN_OF}, {NAME_OF}) ON CONFLICT (enterprise_id, version, department) DO NOTHING",
            department=department,
            at=at,
            **keys,
        )


def superseded(uow: ViewWork, envelope: Envelope) -> None:
    p = envelope.payload
    # the event's originator is the superseded filing; its version is in the summary the filing keeps
    uow.run(
        "UPDATE @filings SET superseded_by = %(by)s WHERE enterprise_id = %(enterprise_id)s "
        "AND version < %(by)s AND superseded_by = 0",
        enterprise_id=str(p["enterprise_id"]),
        by=int(p["by_version"]),
    )


def delivery_recorded(uow: ViewWork, envelope: Envelope) -> None:
    p = envelope.payload
    for move in ledger_moves.moves(p):
        uow.run(
            "INSERT INTO @deliveries (enterprise_id, version, department, state, reason, receipt, "
            f"updated_at, town, enterprise_name) VALUES (%(enterprise_id)s, %(version)s, %(department)s, "
            f"%(state)s, %(reason)s, %(receipt)s, %(at)s, {TOWN_OF}, {NAME_OF}) "
            "ON CONFLICT (enterprise_id, version, department) DO UPDATE SET state = excluded.state, "
            "reason = excluded.reason, receipt = excluded.receipt, updated_at = excluded.updated_at",
            enterprise_id=str(p["enterprise_id"]),
            version=int(p["version"]),
            department=str(move["department"]),
            state=str(move["outcome"]),
            reason=str(move.get("reason") or ""),
            receipt=json.dumps(move.get("receipt") or {}, ensure_ascii=False, sort_keys=True),
            at=envelope.occurred_at,
        )


def campaign_opened(uow: ViewWork, envelope: Envelope) -> None:
    p = envelope.payload
    uow.run(
        "INSERT INTO @campaigns (town, name, deadline, opened_at) VALUES (%(town)s, %(name)s, %(deadline)s, "
        "%(at)s) ON CONFLICT (town, name) DO NOTHING",
        town=p["town"],
        name=p["name"],
        deadline=p["deadline"],
        at=envelope.occurred_at,
    )


def register(handlers: Handlers) -> None:
    handlers.on(UPSTREAM, "Filing.Compiled")(compiled)
    handlers.on(UPSTREAM, "Filing.Submitted")(submitted)
    handlers.on(UPSTREAM, "Filing.Superseded")(superseded)
    for type_ in ledger_moves.TYPES:
        handlers.on(UPSTREAM, type_)(delivery_recorded)
    handlers.on(UPSTREAM, "FilingCampaign.Opened")(campaign_opened)
