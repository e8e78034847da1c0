"""The dangers service's view of enterprises and departments, built from the registry's events."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import Tracking

from services.backbone.envelope import Envelope
from services.backbone.handlers import UnitOfWork
from services.dangers.application import DangersApplication
from services.dangers.handlers import handlers

TOWN_OFFICE, AJ = "ZSZ-AWB", "AJJ-TEZ"


@pytest.fixture
def app() -> Iterator[DangersApplication]:
    value = DangersApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield value
    value.close()


class Registry:
    """Feeds registry events to the dangers service's handlers, one tracked transaction each."""

    def __init__(self, app: DangersApplication) -> None:
        self.app, self.position = app, 0

    def publish(self, type_: str, enterprise: str | None, **payload: Any) -> None:
        self.position += 1
        envelope = Envelope(
            event_id=str(uuid.uuid4()),
            type=type_,
            schema_version=1,
            originator_id=enterprise or "",
            originator_version=1,
            upstream="registry",
            notification_id=self.position,
            previous_id=self.position - 1,
            occurred_at="2026-11-28T00:00:00+00:00",
            correlation_id="",
            enterprise_id=enterprise,
            payload=payload,
        )
        uow = UnitOfWork(self.app)
        assert handlers.apply(uow, envelope)
        processing = ProcessingEvent(Tracking("registry", self.position))
        uow.collect(processing)
        self.app.record(processing)


def uninspected(app: DangersApplication, department: str) -> list[str]:
    return [e["enterprise_id"] for e in app.list_uninspected(department)]


def test_operating_uninspected_enterprises_are_listed_for_their_supervisors(app: DangersApplication) -> None:
    registry, eid = Registry(app), str(uuid.uuid4())
    registry.publish(
        "Department.Registered",
        None,
        code=TOWN_OFFICE,
        name="张山子镇安委会办公室",
        kind="镇安委会办公室",
        town="张山子镇",
        endpoint="",
        tls_ca="",
        credentials_ref="",
    )
    registry.publish("Enterprise.Registered", eid, name="测试企业", town="张山子镇")
    assert uninspected(app, TOWN_OFFICE) == []  # nobody supervises it yet
    registry.publish("Enterprise.SupervisorsAssigned", eid, departments=[AJ, TOWN_OFFICE], manual=[])
    assert uninspected(app, TOWN_OFFICE) == uninspected(app, AJ) == [eid]
    assert app.list_uninspected(AJ, town="别的镇") == []
    registry.publish("Enterprise.ProductionSuspended", eid)
    assert uninspected(app, AJ) == []  # only operating enterprises
    registry.publish("Enterprise.ProductionResumed", eid)
    assert uninspected(app, AJ) == [eid]
    registry.publish("Enterprise.ProfileUpdated", eid, changes={"name": "新名称"})
    assert app.list_uninspected(AJ)[0]["name"] == "新名称"
    registry.publish("Enterprise.Closed", eid)
    assert uninspected(app, AJ) == []
    assert app._departments().town_office([AJ, TOWN_OFFICE]) == TOWN_OFFICE
