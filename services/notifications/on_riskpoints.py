"""Risk points: their levels over time (for the report), and the adjacent-unit notices of level 1 and 2.

An adjacent unit is named in free text ("东邻：鲁南化肥厂"). When a registered enterprise's name appears in
it, that enterprise's legal representative and contacts get an SMS. The units nobody can be found for
are sent to the town's safety office to pass on, or, while no office is known, back to the enterprise,
which must inform them itself.
"""

from __future__ import annotations

from services.backbone.envelope import Envelope
from services.backbone.handlers import Handlers, UnitOfWork
from services.notifications import clock, digests, requests
from services.notifications.ledgers import RiskLedger, ledger_id
from services.notifications.requests import LEDGERS
from services.notifications.views import card_id

UPSTREAM = "riskpoints"


def _ledger(uow: UnitOfWork, envelope: Envelope) -> RiskLedger:
    eid = str(envelope.enterprise_id)
    return LEDGERS.get_or_add(uow, ledger_id("risks", eid), lambda: RiskLedger(enterprise_id=eid))  # type: ignore[no-any-return]


def graded(uow: UnitOfWork, envelope: Envelope) -> None:
    p = envelope.payload
    _ledger(uow, envelope).grade(
        envelope.originator_id, int(p["level"]), clock.utc(envelope.occurred_at), str(p.get("name") or "")
    )


def retired(uow: UnitOfWork, envelope: Envelope) -> None:
    _ledger(uow, envelope).grade(envelope.originator_id, 0, clock.utc(envelope.occurred_at))


def adjacent(uow: UnitOfWork, envelope: Envelope) -> None:
    """Gathered into the page's digest (digests.py): one message per recipient lists the points."""
    p = envelope.payload
    eid = str(envelope.enterprise_id)
    directory = requests.directory(uow)
    enterprise = requests.enterprise_name(uow, eid)
    point = {
        "risk_point": p["name"],
        "location": p["location"],
        "level": p["level"],
        "colour": p["colour"],
        "accidents": "、".join(p["accident_types"]),
    }
    gathered = digests.digest(uow)
    unreached = []
    for unit in p["adjacent_units"]:
        neighbour = directory.enterprise_named_in(unit, besides=eid)
        if neighbour is None:
            unreached.append(unit)
            continue
        shared = {"unit": directory.names[neighbour], "enterprise": enterprise}
        people = requests.people_of(uow, neighbour)
        gathered.add(envelope, "adjacent_risk", neighbour, people, shared, point)
    if not unreached:
        return
    card = requests.card(uow, eid)
    office = directory.town_office(card.town) if card is not None else ""
    told = {**point, "units": "、".join(unreached)}
    if office:
        recipients = [requests.department(uow, office)]
        gathered.add(envelope, "adjacent_risk_office", office, recipients, {"enterprise": enterprise}, told)
    else:
        people = requests.people_of(uow, eid)
        gathered.add(envelope, "adjacent_risk_self", eid, people, {"enterprise": enterprise}, told)


def register(handlers: Handlers) -> None:
    handlers.on(UPSTREAM, "RiskPoint.Identified")(graded)
    handlers.on(UPSTREAM, "RiskPoint.Assessed")(graded)
    handlers.on(UPSTREAM, "RiskPoint.Retired")(retired)
    handlers.reads(UPSTREAM, "RiskPoint.Identified", "RiskPoint.Assessed", "RiskPoint.Retired")(
        lambda envelope: [ledger_id("risks", str(envelope.enterprise_id))]
    )
    handlers.on(UPSTREAM, "RiskPoint.AdjacentNotificationRequired")(adjacent)
    handlers.reads(UPSTREAM, "RiskPoint.AdjacentNotificationRequired")(
        lambda envelope: [card_id(str(envelope.enterprise_id))]  # its name and town
    )
