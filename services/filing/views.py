"""The filing service's own views of other services' data, built from their events only."""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import InternalAggregate
from services.backbone.ids import per_enterprise


@per_enterprise
def enterprise_view_id(enterprise_id: str | uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(uuid.UUID(str(enterprise_id)), "filing/enterprise-view")


class EnterpriseView(InternalAggregate):
    """What the register needs to know about an enterprise."""

    @staticmethod
    def create_id(enterprise_id: str, **_: Any) -> uuid.UUID:
        return enterprise_view_id(enterprise_id)

    @event("Recorded")
    def __init__(self, enterprise_id: str, profile: dict[str, Any]) -> None:
        self.enterprise_id = enterprise_id
        self.profile = profile
        self.status = "operating"
        self.supervisors: list[str] = []
        self.public_keys: dict[str, str] = {}

    @event("ProfileChanged")
    def change_profile(self, changes: dict[str, Any]) -> None:
        self.profile = {**self.profile, **changes}

    @event("SupervisorsChanged")
    def change_supervisors(self, departments: list[str]) -> None:
        self.supervisors = departments

    @event("PublicKeyChanged")
    def change_public_key(self, role: str, public_key: str) -> None:
        self.public_keys = {**self.public_keys, role: public_key}

    @event("StatusChanged")
    def change_status(self, status: str) -> None:
        self.status = status

    def as_dict(self) -> dict[str, Any]:
        return {
            "enterprise_id": self.enterprise_id,
            **self.profile,
            "status": self.status,
            "supervisors": list(self.supervisors),
            "public_keys": dict(self.public_keys),
        }


DIRECTORY_ID = uuid.UUID("f1e7a0c4-2d7b-4b8e-9a3e-5c0d2b9f6a31")


class DepartmentsView(InternalAggregate):
    """Every department's code, name, kind and town, as the registry announced them."""

    @staticmethod
    def create_id(**_: Any) -> uuid.UUID:
        return DIRECTORY_ID

    @event("Opened")
    def __init__(self) -> None:
        self.departments: dict[str, dict[str, str]] = {}

    @event("DepartmentRecorded")
    def record(self, code: str, fields: dict[str, str]) -> None:
        self.departments = {**self.departments, code: {**self.departments.get(code, {}), **fields}}

    def describe(self, codes: list[str]) -> list[dict[str, str]]:
        return [{"code": c, "name": self.departments.get(c, {}).get("name", c)} for c in sorted(set(codes))]


def town_index_id(town: str) -> uuid.UUID:
    return uuid.uuid5(DIRECTORY_ID, f"town/{town}")


class TownIndex(InternalAggregate):
    """The enterprises of one town (for campaigns and 一镇一册)."""

    @staticmethod
    def create_id(town: str, **_: Any) -> uuid.UUID:
        return town_index_id(town)

    @event("Opened")
    def __init__(self, town: str) -> None:
        self.town = town
        # a dict, not a list: membership and insertion are O(1) when a town has thousands
        self.members: dict[str, bool] = {}

    @property
    def enterprises(self) -> list[str]:
        return list(self.members)

    def add(self, enterprise_id: str) -> None:
        if enterprise_id not in self.members:
            self._added(enterprise_id=enterprise_id)

    @event("EnterpriseAdded")
    def _added(self, enterprise_id: str) -> None:
        self.members[enterprise_id] = True

    def remove(self, enterprise_id: str) -> None:
        if enterprise_id in self.members:
            self._removed(enterprise_id=enterprise_id)

    @event("EnterpriseRemoved")
    def _removed(self, enterprise_id: str) -> None:
        self.members.pop(enterprise_id, None)
