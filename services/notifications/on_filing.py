"""Filings: the filing ledger (for the report), rejections and new register versions to sign.

A department rejects a filing → the enterprise's legal representative and contacts, with the reason.
A register re-compiled because a risk factor changed (reason "re-file: …") → the enterprise, to sign it.
"""

from __future__ import annotations

from typing import Any

from services.backbone.envelope import Envelope
from services.backbone.handlers import Handlers, UnitOfWork
from services.kernel import ledger_moves, reasons
from services.notifications import clock, requests, templates
from services.notifications.ledgers import CAMPAIGNS_ID, Campaigns, FilingLedger, RiskLedger, ledger_id
from services.notifications.requests import LEDGERS

UPSTREAM = "filing"
REFILE_PREFIX = "re-file"


def _ledger(uow: UnitOfWork, envelope: Envelope) -> FilingLedger:
    eid = str(envelope.enterprise_id)
    return LEDGERS.get_or_add(uow, ledger_id("filings", eid), lambda: FilingLedger(enterprise_id=eid))  # type: ignore[no-any-return]


def submitted(uow: UnitOfWork, envelope: Envelope) -> None:
    p = envelope.payload
    at = clock.utc(p.get("submitted_at") or envelope.occurred_at)
    _ledger(uow, envelope).submitted(version=int(p["version"]), at=at, departments=list(p["departments"]))


class Answers:
    """A page's answers by enterprise, written into each enterprise's ledger as one event when the page
    is collected (twenty departments' answers to a filing mostly travel in one page)."""

    def __init__(self) -> None:
        self.by_enterprise: dict[str, list[list[Any]]] = {}

    def add(self, enterprise_id: str, answer: list[Any]) -> None:
        self.by_enterprise.setdefault(enterprise_id, []).append(answer)

    def flush(self, uow: UnitOfWork) -> None:
        for eid, answers in self.by_enterprise.items():
            ledger = LEDGERS.get_or_add(
                uow, ledger_id("filings", eid), lambda e=eid: FilingLedger(enterprise_id=e)
            )
            ledger.answered_many(answers)
        self.by_enterprise.clear()


def delivery_recorded(uow: UnitOfWork, envelope: Envelope) -> None:
    p = envelope.payload
    at = clock.utc(envelope.occurred_at)
    eid = str(envelope.enterprise_id)
    answers = uow.gathering("filing-answers", Answers)
    moves = ledger_moves.moves(p)
    for move in moves:
        answers.add(eid, [int(p["version"]), move["department"], move["outcome"], at])
    rejected = [m for m in moves if m["outcome"] == "rejected"]
    if not rejected:
        return
    # the rejections stored together are one message: each department with its reason
    name = requests.directory(uow).department_name
    department, reason = name(rejected[0]["department"]), rejected[0]["reason"] or "未说明"
    if len(rejected) > 1:
        department = "、".join(name(m["department"]) for m in rejected)
        reason = "；".join(f"{name(m['department'])}：{m['reason'] or '未说明'}" for m in rejected)
    text = templates.render(
        "filing_rejected",
        enterprise=requests.enterprise_name(uow, eid),
        version=p["version"],
        department=department,
        reason=reason,
    )
    requests.request(uow, envelope, "filing_rejected", requests.people_of(uow, eid), text)


def compiled(uow: UnitOfWork, envelope: Envelope) -> None:
    p = envelope.payload
    if not str(p["reason"]).startswith(REFILE_PREFIX):
        return
    eid = str(envelope.enterprise_id)
    # the stored reason is the filing service's words (English, with the risk point's id when its event
    # carried no name): the message names the point as this service knows it, in Chinese, never by id
    risks: RiskLedger | None = uow.get(ledger_id("risks", eid))
    known = risks.names if risks is not None else {}
    reason = reasons.change_zh(str(p["reason"]), known.get)
    text = templates.render(
        "register_refile", enterprise=requests.enterprise_name(uow, eid), version=p["version"], reason=reason
    )
    requests.request(uow, envelope, "register_refile", requests.people_of(uow, eid), text)


def campaign_opened(uow: UnitOfWork, envelope: Envelope) -> None:
    p = envelope.payload
    campaigns = uow.get(CAMPAIGNS_ID) or uow.add(Campaigns())
    campaigns.record(town=p["town"], name=p["name"], deadline=p["deadline"])


def register(handlers: Handlers) -> None:
    handlers.on(UPSTREAM, "FilingCampaign.Opened")(campaign_opened)
    handlers.on(UPSTREAM, "Filing.Compiled")(compiled)
    handlers.on(UPSTREAM, "Filing.Submitted")(submitted)
    for type_ in ledger_moves.TYPES:
        handlers.on(UPSTREAM, type_)(delivery_recorded)
