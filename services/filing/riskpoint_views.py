"""The filing service's view of each enterprise's risk points, built from riskpoints events only.

The register of an enterprise is one view aggregate. A page of consumed messages often carries
hundreds of changes for the same enterprise (a bulk import): the view gathers them and records
them as one event per page, not one per risk point.
"""

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
from services.kernel.fields import RISK_POINT_DETAIL_FIELDS, RISK_POINT_GRADE_FIELDS

UPSTREAM = "riskpoints"
# What the register shows of a risk point: its details, grade and ERP id (the order carries no meaning).
ROW_FIELDS = ("external_id", *RISK_POINT_DETAIL_FIELDS, *RISK_POINT_GRADE_FIELDS)


@per_enterprise
def register_id(enterprise_id: str | uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(uuid.UUID(str(enterprise_id)), "filing/riskpoint-register")


class RiskPointRegister(InternalAggregate):
    """An enterprise's risk points in use, as the register (一企一册) lists them."""

    @staticmethod
    def create_id(enterprise_id: str, **_: Any) -> uuid.UUID:
        return register_id(enterprise_id)

    @event("Opened")
    def __init__(self, enterprise_id: str) -> None:
        self.enterprise_id = enterprise_id
        self.rows: dict[str, dict[str, Any]] = {}
        self._staged: dict[str, dict[str, Any] | None] = {}

    def stage(self, risk_point_id: str, changes: dict[str, Any] | None) -> None:
        """Changes a row now (None removes it); the change is recorded when the page is saved."""
        if changes is None:
            self.rows.pop(risk_point_id, None)
            self._staged[risk_point_id] = None
            return
        row = {**self.rows.get(risk_point_id, {}), **{k: v for k, v in changes.items() if k in ROW_FIELDS}}
        self.rows[risk_point_id] = row
        self._staged[risk_point_id] = row

    def collect_events(self) -> Any:
        # The unit of work collects events when it saves the page: that is when the staged rows
        # become one event.
        if self._staged:
            staged, self._staged = self._staged, {}
            self._rows_changed(rows=staged)
        return super().collect_events()

    @event("RowsChanged")
    def _rows_changed(self, rows: dict[str, dict[str, Any] | None]) -> None:
        for key, row in rows.items():
            if row is None:
                self.rows.pop(key, None)
            else:
                self.rows[key] = row

    def as_list(self) -> list[dict[str, Any]]:
        ordered = sorted(self.rows.items(), key=lambda kv: (kv[1].get("level", 9), kv[1].get("name", "")))
        return [{"id": key, "risk_point_id": key, **row} for key, row in ordered]


# A bulk import adds hundreds of rows to a register on every page: keep it between pages.
_kept = ViewCache(is_clean=lambda register: not register._staged)


def _register(uow: UnitOfWork, envelope: Envelope) -> RiskPointRegister:
    enterprise = str(envelope.enterprise_id)
    return _kept.get_or_add(uow, register_id(enterprise), lambda: RiskPointRegister(enterprise_id=enterprise))  # type: ignore[no-any-return]


def identified(uow: UnitOfWork, envelope: Envelope) -> None:
    _register(uow, envelope).stage(envelope.originator_id, envelope.payload)


def assessed(uow: UnitOfWork, envelope: Envelope) -> None:
    _register(uow, envelope).stage(envelope.originator_id, envelope.payload)


def updated(uow: UnitOfWork, envelope: Envelope) -> None:
    _register(uow, envelope).stage(envelope.originator_id, envelope.payload["changes"])


def retired(uow: UnitOfWork, envelope: Envelope) -> None:
    _register(uow, envelope).stage(envelope.originator_id, None)


def noted(uow: UnitOfWork, envelope: Envelope) -> None:
    """Facts the register does not show (the notifications service acts on them)."""


def register(handlers: Handlers) -> None:
    """Subscribes the filing service's handlers to the riskpoints events."""
    handlers.on(UPSTREAM, "RiskPoint.Identified")(identified)
    handlers.on(UPSTREAM, "RiskPoint.Assessed")(assessed)
    handlers.on(UPSTREAM, "RiskPoint.Updated")(updated)
    handlers.on(UPSTREAM, "RiskPoint.AdjacentNotificationRequired")(noted)
    handlers.on(UPSTREAM, "RiskPoint.Retired")(retired)
    handlers.reads(UPSTREAM, *CHANGES)(lambda envelope: [register_id(str(envelope.enterprise_id))])


CHANGES = ("RiskPoint.Identified", "RiskPoint.Assessed", "RiskPoint.Updated", "RiskPoint.Retired")


def riskpoint_register(app: Any, enterprise_id: str) -> list[dict[str, Any]]:
    """The enterprise's risk points in use, most severe first ([] when none has arrived yet)."""
    try:
        found: RiskPointRegister = app.repository.get(register_id(enterprise_id))
    except (AggregateNotFoundError, ValueError):
        return []
    return found.as_list()
