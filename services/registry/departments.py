"""Supervising departments: who they are, where their platform listens, and the directory of them all."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import HubAggregate

DEPARTMENTS = uuid.UUID("0b7d7f0e-52a4-4c51-8a52-3f5c9d2e6b11")


class DepartmentKind(StrEnum):
    """The supervising authorities the seed notice lists (备案 goes to each that supervises)."""

    SAFETY = "安监"
    COAL = "煤炭"
    HOUSING = "住建"
    TRANSPORT = "交通"
    MARKET = "市场监管"
    FIRE = "消防"
    TRAFFIC_POLICE = "交警"
    WATER = "水利渔业"
    LAND = "国土"
    CIVIL_AFFAIRS = "民政"
    AGRICULTURE = "农业农机"
    COMMERCE = "商务"
    CULTURE = "文广新"
    HEALTH = "卫计"
    FORESTRY = "林业"
    GRAIN = "粮食"
    TOURISM = "旅服"
    SPORTS = "体育"
    SUPPLY = "供销"
    TOBACCO = "烟草"
    EDUCATION = "教育"
    TOWN_OFFICE = "镇安委会办公室"  # supervises every enterprise of its town

    @classmethod
    def parse(cls, value: str) -> DepartmentKind:
        """A kind by its Chinese label ("安监") or its name ("safety"); ValueError otherwise."""
        text = str(value).strip()
        for kind in cls:
            if text in (kind.value, kind.name, kind.name.lower()):
                return kind
        raise ValueError(text)


def department_id(code: str) -> uuid.UUID:
    return uuid.uuid5(DEPARTMENTS, code)


# What an operator may change after registration. Kind and town decide routing, so they are fixed:
# a department that changes kind is a different department with a new code.
CHANGEABLE = ("name", "endpoint", "tls_ca", "credentials_ref", "receipt_public_key")


class Department(HubAggregate):
    """A supervising department and how the hub reaches its platform (gRPC endpoint, TLS, credentials),
    and the SM2 public key its platform signs receipts with (empty until registered or first pinned)."""

    receipt_public_key: str = ""  # departments registered before the key was kept have none
    removed: bool = False  # set by Removed: the code stays taken, its past filings keep naming it

    @staticmethod
    def create_id(code: str, **_: Any) -> uuid.UUID:
        return department_id(code)

    @event("Registered")
    def __init__(
        self,
        code: str,
        name: str,
        kind: DepartmentKind,
        town: str,
        endpoint: str,
        tls_ca: str,
        credentials_ref: str,
        receipt_public_key: str = "",
    ) -> None:
        self.code, self.name, self.kind, self.town = code, name, kind, town
        self.endpoint, self.tls_ca, self.credentials_ref = endpoint, tls_ca, credentials_ref
        self.receipt_public_key = receipt_public_key

    def change(self, changes: dict[str, Any]) -> None:
        changed = {k: v for k, v in changes.items() if k in CHANGEABLE and getattr(self, k) != v}
        if changed:
            self._changed(code=self.code, changes=changed)

    @event("Changed")
    def _changed(self, code: str, changes: dict[str, Any]) -> None:
        for key, value in changes.items():
            setattr(self, key, value)

    def remove(self) -> bool:
        """Takes the department out of the hub; False when it was removed already."""
        if self.removed:
            return False
        self._removed(code=self.code)
        return True

    @event("Removed")
    def _removed(self, code: str) -> None:
        self.removed = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "kind": str(self.kind),
            "town": self.town,
            "endpoint": self.endpoint,
            "tls_ca": self.tls_ca,
            "credentials_ref": self.credentials_ref,
            "receipt_public_key": self.receipt_public_key,
            "removed": self.removed,
            "version": self.version,
        }


DIRECTORY_ID = uuid.uuid5(DEPARTMENTS, "directory")


class DepartmentDirectory(HubAggregate):
    """Every department code with its kind and town: validates codes, finds a town's office. Internal."""

    class Event(HubAggregate.Event):
        published = False

    removed: tuple[str, ...] = ()  # codes of removed departments (snapshots before removals lack it)

    @staticmethod
    def create_id(**_: Any) -> uuid.UUID:
        return DIRECTORY_ID

    @event("Opened")
    def __init__(self) -> None:
        self.entries: dict[str, dict[str, str]] = {}  # code -> {"kind": ..., "town": ...}

    @event("Entered")
    def enter(self, code: str, kind: str, town: str) -> None:
        self.entries = {**self.entries, code: {"kind": kind, "town": town}}

    @event("Left")
    def leave(self, code: str) -> None:
        self.entries = {c: entry for c, entry in self.entries.items() if c != code}
        self.removed = tuple(sorted({*self.removed, code}))

    def __contains__(self, code: object) -> bool:
        return code in self.entries

    def kind_of(self, code: str) -> str:
        return self.entries[code]["kind"]

    def town_office(self, town: str) -> str | None:
        """The code of the town's safety office (镇安委会办公室), if one is registered."""
        for code, entry in self.entries.items():
            if entry["kind"] == DepartmentKind.TOWN_OFFICE and entry["town"] == town:
                return code
        return None
