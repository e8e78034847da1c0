"""The dangers service's view of whose risk points are whose, built from the riskpoints events.

A danger names a risk point of its own enterprise (a department's finding, one of the inspected
enterprise's). Asking the riskpoints service on each report costs a round trip through RabbitMQ and
a read in riskpoints; the view answers most reports from the dangers store instead, in the same read
as the enterprise's danger list. A risk point the view does not hold yet (identified a moment ago,
the view lagging) is still asked of the riskpoints service, so a report right after an import counts
it at once. A risk point never changes enterprise and a retired one is never used again, so what the
view holds goes stale only while a retirement is on its way: a caller whose own writes the view has
not reached yet (the gateway says how far they went) is answered by the riskpoints service.

An enterprise's holdings are one view aggregate; a page of consumed messages (a bulk import: hundreds
of risk points) records them as one event per enterprise, not one per risk point.
"""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import CheapCopies, InternalAggregate
from services.backbone.envelope import Envelope
from services.backbone.handlers import Handlers, UnitOfWork
from services.backbone.ids import per_enterprise
from services.backbone.view_cache import ViewCache
from services.dangers.records import RECORDS

UPSTREAM = "riskpoints"


@per_enterprise
def holdings_id(enterprise_id: str) -> uuid.UUID:
    return uuid.uuid5(RECORDS, f"riskpoints/{enterprise_id}")


class RiskPointHoldings(CheapCopies, InternalAggregate):
    """One enterprise's risk points: id → retired or not."""

    flat = ("points", "_staged")  # ids → flags: copied as dicts for each report, not id by id

    @staticmethod
    def create_id(enterprise_id: str, **_: Any) -> uuid.UUID:
        return holdings_id(enterprise_id)

    @event("Opened")
    def __init__(self, enterprise_id: str) -> None:
        self.enterprise_id = enterprise_id
        self.points: dict[str, bool] = {}
        self._staged: dict[str, bool] = {}

    def stage(self, risk_point_id: str, retired: bool) -> None:
        """Holds the risk point now; the change is recorded when the page is saved."""
        self.points[risk_point_id] = retired
        self._staged[risk_point_id] = retired

    def collect_events(self) -> Any:
        # The unit of work collects events when it saves the page: the page's changes become one event.
        if self._staged:
            staged, self._staged = self._staged, {}
            self._changed(points=staged)
        return super().collect_events()

    @event("Changed")
    def _changed(self, points: dict[str, bool]) -> None:
        self.points.update(points)

    def standing(self, risk_point_ids: list[str]) -> dict[str, str]:
        """What the view knows of these ids: "own" (in use) or "missing" (retired); ids it does not
        hold are left out."""
        known = {rid: self.points[rid] for rid in risk_point_ids if rid in self.points}
        return {rid: "missing" if retired else "own" for rid, retired in known.items()}


# A bulk import adds hundreds of risk points to an enterprise's holdings on every page: keep them.
_kept = ViewCache(is_clean=lambda holdings: not holdings._staged)


def _holdings(uow: UnitOfWork, envelope: Envelope) -> RiskPointHoldings:
    enterprise = str(envelope.enterprise_id)
    return _kept.get_or_add(  # type: ignore[no-any-return]
        uow, holdings_id(enterprise), lambda: RiskPointHoldings(enterprise_id=enterprise)
    )


def identified(uow: UnitOfWork, envelope: Envelope) -> None:
    _holdings(uow, envelope).stage(envelope.originator_id, retired=False)


def retired(uow: UnitOfWork, envelope: Envelope) -> None:
    _holdings(uow, envelope).stage(envelope.originator_id, retired=True)


def register(handlers: Handlers) -> None:
    """Subscribes the dangers service's handlers to the riskpoints events it keeps."""
    handlers.on(UPSTREAM, "RiskPoint.Identified")(identified)
    handlers.on(UPSTREAM, "RiskPoint.Retired")(retired)
    handlers.reads(UPSTREAM, *CHANGES)(lambda envelope: [holdings_id(str(envelope.enterprise_id))])


CHANGES = ("RiskPoint.Identified", "RiskPoint.Retired")
