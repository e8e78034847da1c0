"""The dangers service's own internal records: what it knows of enterprises and departments (from the
registry's events), each enterprise's dangers, and who has never been inspected. Never published."""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import CheapCopies, InternalAggregate
from services.backbone.ids import per_enterprise

RECORDS = uuid.UUID("c3b1d9e4-7a52-4f0e-8d6b-1e9a2f7c5d40")
COVERAGE_ID = uuid.uuid5(RECORDS, "coverage")
DEPARTMENTS_ID = uuid.uuid5(RECORDS, "departments")
TOWN_OFFICE = "镇安委会办公室"


@per_enterprise
def record_id(enterprise_id: str) -> uuid.UUID:
    return uuid.uuid5(RECORDS, f"enterprise/{enterprise_id}")


@per_enterprise
def list_id(enterprise_id: str) -> uuid.UUID:
    return uuid.uuid5(RECORDS, f"dangers/{enterprise_id}")


class EnterpriseRecord(InternalAggregate):
    """An enterprise as the dangers service knows it: profile from the registry, inspections from here."""

    @staticmethod
    def create_id(enterprise_id: str, **_: Any) -> uuid.UUID:
        return record_id(enterprise_id)

    @event("Opened")
    def __init__(self, enterprise_id: str) -> None:
        self.enterprise_id = enterprise_id
        self.name, self.town, self.status = "", "", "operating"
        self.supervisors: list[str] = []
        self.inspections: list[dict[str, str]] = []

    @event("Profiled")
    def profile(self, name: str, town: str) -> None:
        self.name, self.town = name, town

    @event("SupervisorsChanged")
    def change_supervisors(self, departments: list[str]) -> None:
        self.supervisors = departments

    @event("StatusChanged")
    def change_status(self, status: str) -> None:
        self.status = status

    @event("Inspected")
    def inspected(self, inspection_id: str, department: str, inspected_on: str) -> None:
        entry = {"inspection_id": inspection_id, "department": department, "inspected_on": inspected_on}
        self.inspections = [*self.inspections, entry]

    @property
    def never_inspected(self) -> bool:
        return not self.inspections

    def entry(self) -> dict[str, Any]:
        return {"name": self.name, "town": self.town, "supervisors": list(self.supervisors)}


class DangerList(CheapCopies, InternalAggregate):
    """The ids of one enterprise's hidden dangers, in the order they were found."""

    shared = ("danger_ids",)  # never changed in place (add makes a new list): shared by the copies

    @staticmethod
    def create_id(enterprise_id: str, **_: Any) -> uuid.UUID:
        return list_id(enterprise_id)

    @event("Opened")
    def __init__(self, enterprise_id: str) -> None:
        self.enterprise_id = enterprise_id
        self.danger_ids: list[str] = []

    @event("Added")
    def add(self, danger_id: str) -> None:
        self.danger_ids = [*self.danger_ids, danger_id]  # a new list: copies may share the old one


class CoverageIndex(InternalAggregate):
    """Operating enterprises no department has inspected yet (every enterprise must be: 六个必须)."""

    @staticmethod
    def create_id(**_: Any) -> uuid.UUID:
        return COVERAGE_ID

    @event("Opened")
    def __init__(self) -> None:
        self.uninspected: dict[str, dict[str, Any]] = {}

    def follow(self, record: EnterpriseRecord) -> None:
        """Lists the enterprise while it operates and is uninspected; drops it otherwise."""
        eid = record.enterprise_id
        if record.status == "operating" and record.never_inspected:
            if self.uninspected.get(eid) != record.entry():
                self._listed(enterprise_id=eid, entry=record.entry())
        elif eid in self.uninspected:
            self._dropped(enterprise_id=eid)

    # In place: copying the whole index on each event made a page of registrations cost
    # (page × enterprises), and a load replay (snapshot interval × enterprises).
    @event("Listed")
    def _listed(self, enterprise_id: str, entry: dict[str, Any]) -> None:
        self.uninspected[enterprise_id] = dict(entry)

    @event("Dropped")
    def _dropped(self, enterprise_id: str) -> None:
        self.uninspected.pop(enterprise_id, None)


class DepartmentKinds(InternalAggregate):
    """Every department's kind and town, to tell a town's safety office from the other supervisors."""

    @staticmethod
    def create_id(**_: Any) -> uuid.UUID:
        return DEPARTMENTS_ID

    @event("Opened")
    def __init__(self) -> None:
        self.entries: dict[str, dict[str, str]] = {}

    @event("Entered")
    def enter(self, code: str, kind: str, town: str) -> None:
        self.entries = {**self.entries, code: {"kind": kind, "town": town}}

    def town_office(self, departments: list[str]) -> str:
        return next((d for d in departments if self.entries.get(d, {}).get("kind") == TOWN_OFFICE), "")
