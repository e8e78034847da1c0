"""The filing service's view of each enterprise's hidden dangers, built from dangers events only."""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import event

from services.backbone.aggregate import InternalAggregate
from services.backbone.envelope import Envelope
from services.backbone.handlers import Handlers, UnitOfWork
from services.backbone.ids import per_enterprise
from services.backbone.view_cache import ViewCache

UPSTREAM = "dangers"
# event type → the status a danger has after it
STATUS = {
    "HiddenDanger.Reported": "reported",
    "HiddenDanger.Assessed": "assessed",
    "HiddenDanger.RectificationPlanned": "rectifying",
    "HiddenDanger.RectificationSubmitted": "submitted",
    "HiddenDanger.SentBack": "rectifying",
    "HiddenDanger.Verified": "verified",
    "HiddenDanger.Closed": "closed",
}


@per_enterprise
def register_id(enterprise_id: str | uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(uuid.UUID(str(enterprise_id)), "filing/danger-register")


class DangerRegister(InternalAggregate):
    """An enterprise's hidden dangers, as the register lists them under their risk points."""

    @staticmethod
    def create_id(enterprise_id: str, **_: Any) -> uuid.UUID:
        return register_id(enterprise_id)

    @event("Opened")
    def __init__(self, enterprise_id: str) -> None:
        self.enterprise_id = enterprise_id
        self.rows: dict[str, dict[str, Any]] = {}

    @event("RowChanged")
    def change(self, danger_id: str, changes: dict[str, Any]) -> None:
        self.rows = {**self.rows, danger_id: {**self.rows.get(danger_id, {}), **changes}}

    def as_list(self) -> list[dict[str, Any]]:
        return [{"id": key, **row} for key, row in sorted(self.rows.items())]


# An enterprise's register is changed by every one of its dangers' events: kept between pages, it is
# checked with one small query instead of being replayed from its snapshot each time.
_kept = ViewCache()


def _register(uow: UnitOfWork, envelope: Envelope) -> DangerRegister:
    enterprise = str(envelope.enterprise_id)
    return _kept.get_or_add(uow, register_id(enterprise), lambda: DangerRegister(enterprise_id=enterprise))  # type: ignore[no-any-return]


def changes_of(envelope: Envelope) -> dict[str, Any]:
    """What one dangers event changes in the register's row for that danger."""
    p = envelope.payload
    changes: dict[str, Any] = {"status": STATUS[envelope.type]}
    if envelope.type == "HiddenDanger.Reported":
        changes.update(
            risk_point_id=p["risk_point_id"],
            description=p["finding"].get("description", ""),
            source=p["source"],
            grade=None,
            deadline=None,
            measures=[],
        )
    elif envelope.type == "HiddenDanger.Assessed":
        changes["grade"] = p["grade"]
    elif envelope.type == "HiddenDanger.RectificationPlanned":
        changes.update(deadline=p["plan"].get("deadline"), measures=list(p["plan"].get("measures", [])))
    return changes


def apply(uow: UnitOfWork, envelope: Envelope) -> None:
    _register(uow, envelope).change(envelope.originator_id, changes_of(envelope))


def overdue(uow: UnitOfWork, envelope: Envelope) -> None:
    _register(uow, envelope).change(envelope.originator_id, {"overdue": True})


def register(handlers: Handlers) -> None:
    """Subscribes the filing service's handlers to the dangers events."""
    for type_ in STATUS:
        handlers.on(UPSTREAM, type_)(apply)
    handlers.on(UPSTREAM, "HiddenDanger.Overdue")(overdue)
    handlers.reads(UPSTREAM, *STATUS, "HiddenDanger.Overdue")(
        lambda envelope: [register_id(str(envelope.enterprise_id))]
    )


def dangers_of(app: Any, enterprise_id: str) -> list[dict[str, Any]]:
    """The enterprise's hidden dangers ([] when none has arrived yet)."""
    try:
        found: DangerRegister = app.repository.get(register_id(enterprise_id))
    except (AggregateNotFoundError, ValueError):
        return []
    return found.as_list()
