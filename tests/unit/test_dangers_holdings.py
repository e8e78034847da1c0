"""The dangers service's view of whose risk points are whose: it answers for the risk points it holds, the
riskpoints service for the rest (and for all of them while a caller's own writes are ahead of it)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import Tracking

from services.backbone.envelope import Envelope
from services.backbone.errors import NotFoundError
from services.backbone.handlers import UnitOfWork
from services.dangers.application import DangersApplication
from services.dangers.handlers import handlers
from services.dangers.holdings import RiskPointHoldings, holdings_id
from tests import dangers_data as data


@pytest.fixture
def app() -> Iterator[DangersApplication]:
    value = DangersApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield value
    value.close()


class RiskPoints:
    """Feeds pages of riskpoints events to the dangers service's handlers, one tracked transaction each."""

    def __init__(self, app: DangersApplication) -> None:
        self.app, self.position = app, 0

    def page(self, *events: tuple[str, str, str]) -> None:
        """(type, enterprise, risk point) each."""
        envelopes = []
        for type_, enterprise, point in events:
            self.position += 1
            envelopes.append(
                Envelope(
                    event_id=str(uuid.uuid4()),
                    type=type_,
                    schema_version=1,
                    originator_id=point,
                    originator_version=1,
                    upstream="riskpoints",
                    notification_id=self.position,
                    previous_id=self.position - 1,
                    occurred_at="2026-11-28T00:00:00+00:00",
                    correlation_id="",
                    enterprise_id=enterprise,
                    payload={},
                )
            )
        uow = UnitOfWork(self.app)
        handlers.prefetch(uow, envelopes)
        for envelope in envelopes:
            assert handlers.apply(uow, envelope)
        processing = ProcessingEvent(Tracking("riskpoints", self.position))
        uow.collect(processing)
        self.app.record(processing)


class Owners:
    """The riskpoints service's answer, counting the ids it is asked about."""

    def __init__(self, answer: str) -> None:
        self.answer, self.asked = answer, list[list[str]]()

    def __call__(self, _enterprise: str, ids: list[str]) -> dict[str, str]:
        self.asked.append(list(ids))
        return dict.fromkeys(ids, self.answer)


@pytest.fixture
def held(app: DangersApplication) -> tuple[str, str, str, str]:
    """An enterprise, a risk point of its own in use, one retired, and another enterprise's."""
    eid, other = str(uuid.uuid4()), str(uuid.uuid4())
    data.known_enterprise(app, eid)
    own, gone, others = (str(uuid.uuid4()) for _ in range(3))
    feed = RiskPoints(app)
    feed.page(
        ("RiskPoint.Identified", eid, own),
        ("RiskPoint.Identified", eid, gone),
        ("RiskPoint.Identified", other, others),
    )
    feed.page(("RiskPoint.Retired", eid, gone))
    return eid, own, gone, others


def test_a_page_records_one_event_per_enterprise(app: DangersApplication, held: tuple[str, ...]) -> None:
    eid, own, gone, _ = held
    holdings: RiskPointHoldings = app.repository.get(holdings_id(eid))
    assert holdings.points == {own: False, gone: True}
    assert holdings.version == 3  # opened, the first page's two risk points, the retirement


def test_a_risk_point_the_view_holds_is_answered_without_asking(
    app: DangersApplication, held: tuple[str, ...]
) -> None:
    eid, own, gone, _ = held
    asked = Owners("own")
    assert app.report(eid, data.report(risk_point_id=own), asked)["created"]
    with pytest.raises(NotFoundError):  # retired: never in use again
        app.report(eid, data.report(risk_point_id=gone), asked)
    assert asked.asked == []


@pytest.mark.parametrize("answer", ["own", "other", "missing"])
def test_one_it_does_not_hold_is_asked_of_the_riskpoints_service(
    app: DangersApplication, held: tuple[str, ...], answer: str
) -> None:
    """Another enterprise's, or one identified a moment ago that the view has not reached yet."""
    eid, _, _, others = held
    fresh = str(uuid.uuid4())
    for point in (others, fresh):
        asked = Owners(answer)
        if answer == "own":
            assert app.report(eid, data.report(risk_point_id=point), asked)["created"]
        else:
            with pytest.raises(NotFoundError):
                app.report(eid, data.report(risk_point_id=point), asked)
        assert asked.asked == [[point]]


def test_a_caller_whose_writes_are_ahead_of_the_view_is_answered_by_the_riskpoints_service(
    app: DangersApplication, held: tuple[str, ...]
) -> None:
    """A risk point retired a moment ago: the view may still hold it in use."""
    eid, own, _, _ = held
    asked = Owners("missing")
    with pytest.raises(NotFoundError):
        app.report(eid, data.report(risk_point_id=own), asked, after=99)
    assert asked.asked == [[own]]
    caught_up = Owners("missing")
    assert app.report(eid, data.report(risk_point_id=own), caught_up, after=4)["created"]
    assert caught_up.asked == []
