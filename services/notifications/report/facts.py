"""What the monthly report of a town is computed from: this service's own views and ledgers (events only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.backbone.store import pages
from services.notifications import clock
from services.notifications.config import Config
from services.notifications.ledgers import (
    CAMPAIGNS_ID,
    DangerLedger,
    FilingLedger,
    RiskLedger,
    ledger_id,
)
from services.notifications.views import DIRECTORY_ID, Directory, EnterpriseCard, card_id

TOWN_PAGE = 250  # enterprises whose card and three ledgers are read together
LEDGER_KINDS = ("risks", "dangers", "filings")


@dataclass
class EnterpriseFacts:
    enterprise_id: str
    name: str
    uscc: str  # beside the name in the tables: two enterprises may bear the same name
    registered_at: str
    closed_at: str
    supervisors: list[str]
    risks: RiskLedger
    dangers: DangerLedger
    filings: FilingLedger

    def active_at(self, cutoff: str) -> bool:
        return self.registered_at < cutoff and not (self.closed_at and self.closed_at < cutoff)


@dataclass
class TownFacts:
    town: str
    enterprises: list[EnterpriseFacts]
    departments: dict[str, str]  # code → name
    town_office: str
    campaign_deadlines: dict[str, str]  # month → YYYY-MM-DD of a campaign the town opened


def directory_of(app: Any) -> Directory:
    """The directory as stored, read with the hub's reads of many (a province's is a snapshot of
    megabytes: the connection that read it is not pooled again, backbone/large_messages.py)."""
    found: Directory | None = app.get_many([DIRECTORY_ID]).get(DIRECTORY_ID)
    return found if found is not None else Directory()


def gather(app: Any, town: str) -> TownFacts:
    """The town's enterprises with their ledgers, as this service holds them now."""
    directory = directory_of(app)
    members = list(directory.towns.get(town, []))
    names = {code: fields.get("name", code) for code, fields in directory.departments.items()}
    office = directory.town_office(town)
    # the province's directory is let go before the town's ledgers are read, not held beside them
    del directory
    enterprises = []
    for page in pages(members, TOWN_PAGE):  # a page of enterprises' card and ledgers at once
        ids = [i for eid in page for i in (card_id(eid), *(ledger_id(k, eid) for k in LEDGER_KINDS))]
        found = app.get_many(ids)
        for eid in page:
            card: EnterpriseCard | None = found.get(card_id(eid))
            if card is None:
                continue
            enterprises.append(
                EnterpriseFacts(
                    enterprise_id=eid,
                    name=card.name,
                    uscc=str(card.profile.get("uscc", "")),
                    registered_at=card.registered_at,
                    closed_at=card.closed_at,
                    supervisors=list(card.supervisors),
                    risks=found.get(ledger_id("risks", eid)) or RiskLedger(enterprise_id=eid),
                    dangers=found.get(ledger_id("dangers", eid)) or DangerLedger(enterprise_id=eid),
                    filings=found.get(ledger_id("filings", eid)) or FilingLedger(enterprise_id=eid),
                )
            )
    campaigns = app.find(CAMPAIGNS_ID)
    deadlines: dict[str, str] = {}
    for deadline, _name in campaigns.deadlines.get(town, []) if campaigns else []:
        deadlines[deadline[:7]] = max(deadlines.get(deadline[:7], ""), deadline)
    return TownFacts(town, enterprises, names, office, deadlines)


def towns(app: Any) -> dict[str, list[str]]:
    """Each town with enterprises, and its enterprises' ids."""
    directory = directory_of(app)
    return {t: list(members) for t, members in sorted(directory.towns.items()) if t and members}


def registered_before(app: Any, enterprises: list[str], cutoff: str) -> bool:
    """Whether any of these enterprises was registered before `cutoff`: their cards only, a page at a
    time, until one was (the first page, as a rule), not every enterprise's ledgers."""
    for page in pages(enterprises, TOWN_PAGE):
        found = app.get_many([card_id(eid) for eid in page])
        if any(card.registered_at < cutoff for card in found.values()):
            return True
    return False


@dataclass(frozen=True)
class Period:
    """A month of a town's filing cycle: its deadline and cutoff as stored instants."""

    month: str
    deadline_date: str  # YYYY-MM-DD, the last day to file on time
    deadline: str  # the first instant after that day
    start: str
    cutoff: str  # the first instant after the month


def period(facts: TownFacts, month: str, config: Config) -> Period:
    """The month's deadline: a filing campaign's that falls in it, else the town's configured day."""
    chosen = facts.campaign_deadlines.get(month)
    day = clock.deadline_day(month, int(chosen[8:10]) if chosen else config.deadline_day(facts.town))
    return Period(
        month=month,
        deadline_date=day.isoformat(),
        deadline=clock.end_of_day(day, config.zone),
        start=clock.start_of(month, config.zone),
        cutoff=clock.end_of(month, config.zone),
    )
