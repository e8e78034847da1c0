"""How the dangers service follows the registry (enterprises: status, supervisors; departments) and whose
risk points are whose (services/dangers/holdings.py)."""

from __future__ import annotations

from collections.abc import Callable

from services.backbone.envelope import Envelope
from services.backbone.handlers import Handlers, UnitOfWork
from services.backbone.view_cache import ViewCache
from services.dangers import holdings
from services.dangers.records import (
    COVERAGE_ID,
    DEPARTMENTS_ID,
    CoverageIndex,
    DepartmentKinds,
    EnterpriseRecord,
    record_id,
)

handlers = Handlers("dangers")
holdings.register(handlers)  # risk points: services/dangers/holdings.py


def _record(uow: UnitOfWork, envelope: Envelope) -> EnterpriseRecord:
    """The enterprise's record (a department may have inspected it before its Registered arrived)."""
    eid = str(envelope.enterprise_id)
    return uow.get(record_id(eid)) or uow.add(EnterpriseRecord(eid))  # type: ignore[no-any-return]


# Every operating enterprise not yet inspected: a province's worth at first, kept between pages
# rather than decoded on each.
COVERAGE = ViewCache(maxsize=1)


def _follow(uow: UnitOfWork, record: EnterpriseRecord) -> None:
    coverage = COVERAGE.get_or_add(uow, COVERAGE_ID, CoverageIndex)
    coverage.follow(record)


@handlers.on("registry", "Enterprise.Registered")
def registered(uow: UnitOfWork, envelope: Envelope) -> None:
    record = _record(uow, envelope)
    record.profile(envelope.payload["name"], envelope.payload["town"])
    _follow(uow, record)


@handlers.on("registry", "Enterprise.ProfileUpdated")
def profile_updated(uow: UnitOfWork, envelope: Envelope) -> None:
    changes = envelope.payload["changes"]
    if "name" in changes or "town" in changes:
        record = _record(uow, envelope)
        record.profile(changes.get("name", record.name), changes.get("town", record.town))
        _follow(uow, record)


@handlers.on("registry", "Enterprise.SupervisorsAssigned")
def supervisors_assigned(uow: UnitOfWork, envelope: Envelope) -> None:
    record = _record(uow, envelope)
    record.change_supervisors(list(envelope.payload["departments"]))
    _follow(uow, record)


def _status(status: str) -> Callable[[UnitOfWork, Envelope], None]:
    def apply(uow: UnitOfWork, envelope: Envelope) -> None:
        record = _record(uow, envelope)
        record.change_status(status)
        _follow(uow, record)

    return apply


handlers.on("registry", "Enterprise.ProductionSuspended")(_status("suspended"))
handlers.on("registry", "Enterprise.ProductionResumed")(_status("operating"))
handlers.on("registry", "Enterprise.Closed")(_status("closed"))
# a page's enterprise records read together (one query, with the coverage index kept from the last page)
handlers.reads(
    "registry",
    "Enterprise.Registered",
    "Enterprise.ProfileUpdated",
    "Enterprise.SupervisorsAssigned",
    "Enterprise.ProductionSuspended",
    "Enterprise.ProductionResumed",
    "Enterprise.Closed",
)(lambda envelope: [record_id(str(envelope.enterprise_id)), COVERAGE_ID])


@handlers.on("registry", "Department.Registered")
def department_registered(uow: UnitOfWork, envelope: Envelope) -> None:
    kinds = uow.get(DEPARTMENTS_ID) or uow.add(DepartmentKinds())
    payload = envelope.payload
    kinds.enter(payload["code"], payload["kind"], payload["town"])
