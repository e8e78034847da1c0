"""Hidden dangers and enforcement: the dangers ledger (for the report), overdue escalations, the 六个必须.

Overdue → the responsible person (EscalatedToResponsible), then the town office and the supervising
departments (EscalatedToAuthorities). Each enforcement step → the enterprise (legal representative and
contacts) and the department that took it.
"""

from __future__ import annotations

from services.backbone.envelope import Envelope
from services.backbone.handlers import Handlers, UnitOfWork
from services.notifications import clock, requests, templates
from services.notifications.ledgers import DangerLedger, ledger_id
from services.notifications.requests import LEDGERS

UPSTREAM = "dangers"


def _ledger(uow: UnitOfWork, envelope: Envelope) -> DangerLedger:
    eid = str(envelope.enterprise_id)
    return LEDGERS.get_or_add(uow, ledger_id("dangers", eid), lambda: DangerLedger(enterprise_id=eid))  # type: ignore[no-any-return]


def reported(uow: UnitOfWork, envelope: Envelope) -> None:
    finding = envelope.payload["finding"]
    facts = {
        "reported_at": clock.utc(envelope.occurred_at),
        "description": str(finding.get("description", "")),
    }
    _ledger(uow, envelope).note(danger_id=envelope.originator_id, facts=facts)


def assessed(uow: UnitOfWork, envelope: Envelope) -> None:
    _ledger(uow, envelope).note(danger_id=envelope.originator_id, facts={"grade": envelope.payload["grade"]})


def overdue(uow: UnitOfWork, envelope: Envelope) -> None:
    at = clock.utc(envelope.payload["detected_at"])
    _ledger(uow, envelope).note(danger_id=envelope.originator_id, facts={"overdue_at": at})


def closed(uow: UnitOfWork, envelope: Envelope) -> None:
    at = clock.utc(envelope.occurred_at)
    _ledger(uow, envelope).note(danger_id=envelope.originator_id, facts={"closed_at": at})


def _danger(uow: UnitOfWork, envelope: Envelope) -> str:
    return _ledger(uow, envelope).describe(envelope.originator_id) or "（未登记描述）"


def to_responsible(uow: UnitOfWork, envelope: Envelope) -> None:
    p = envelope.payload
    text = templates.render(
        "danger_overdue_responsible",
        person=p["responsible_person"],
        enterprise=requests.enterprise_name(uow, str(envelope.enterprise_id)),
        danger=_danger(uow, envelope),
        deadline=p["deadline"],
    )
    person = {"kind": "person", "name": p["responsible_person"], "address": p["responsible_mobile"]}
    requests.request(uow, envelope, "danger_overdue", [person], text)


def to_authorities(uow: UnitOfWork, envelope: Envelope) -> None:
    p = envelope.payload
    codes = sorted({c for c in [p.get("town_office") or "", *p["departments"]] if c})
    for code in codes:
        recipient = requests.department(uow, code)
        text = templates.render(
            "danger_overdue_authorities",
            enterprise=requests.enterprise_name(uow, str(envelope.enterprise_id)),
            danger=_danger(uow, envelope),
            deadline=p["deadline"],
            department=recipient["name"],
        )
        requests.request(uow, envelope, "danger_overdue", [recipient], text)


def enforcement(uow: UnitOfWork, envelope: Envelope) -> None:
    p = envelope.payload
    eid = str(envelope.enterprise_id)
    name = requests.enterprise_name(uow, eid)
    authority = (p.get("step") or {}).get("authority") or p.get("authority") or ""
    authority_name = requests.directory(uow).department_name(authority) if authority else ""
    to_enterprise = templates.enforcement_text(envelope.type, p, name, False, authority_name)
    requests.request(uow, envelope, "enforcement", requests.people_of(uow, eid), to_enterprise)
    if authority:
        to_department = templates.enforcement_text(envelope.type, p, name, True, authority_name)
        requests.request(uow, envelope, "enforcement", [requests.department(uow, authority)], to_department)


def register(handlers: Handlers) -> None:
    handlers.on(UPSTREAM, "HiddenDanger.Reported")(reported)
    handlers.on(UPSTREAM, "HiddenDanger.Assessed")(assessed)
    handlers.on(UPSTREAM, "HiddenDanger.Overdue")(overdue)
    handlers.on(UPSTREAM, "HiddenDanger.Closed")(closed)
    handlers.on(UPSTREAM, "HiddenDanger.EscalatedToResponsible")(to_responsible)
    handlers.on(UPSTREAM, "HiddenDanger.EscalatedToAuthorities")(to_authorities)
    for step in templates.ENFORCEMENT_STEPS:
        handlers.on(UPSTREAM, step)(enforcement)
    ledgered = (
        "Reported",
        "Assessed",
        "Overdue",
        "Closed",
        "EscalatedToResponsible",
        "EscalatedToAuthorities",
    )
    handlers.reads(UPSTREAM, *(f"HiddenDanger.{t}" for t in ledgered))(
        lambda envelope: [ledger_id("dangers", str(envelope.enterprise_id))]
    )
