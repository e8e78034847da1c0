"""The notifications service's view of enterprises and departments, built from the registry's events.

Only the registry consumer writes these (one thread), so they never collide with one another.
"""

from __future__ import annotations

import uuid
import weakref
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import InternalAggregate
from services.backbone.ids import per_enterprise

VIEWS = uuid.UUID("0d6f2a8b-93c4-4e1b-a5d7-6c2e8f1b4a90")
DIRECTORY_ID = uuid.uuid5(VIEWS, "directory")
TOWN_OFFICE_KIND = "镇安委会办公室"


@per_enterprise
def card_id(enterprise_id: str) -> uuid.UUID:
    return uuid.uuid5(VIEWS, f"enterprise/{enterprise_id}")


class EnterpriseCard(InternalAggregate):
    """Who to tell at an enterprise (legal representative, contacts), its town and supervisors."""

    @staticmethod
    def create_id(enterprise_id: str, **_: Any) -> uuid.UUID:
        return card_id(enterprise_id)

    @event("Recorded")
    def __init__(self, enterprise_id: str, profile: dict[str, Any], registered_at: str) -> None:
        self.enterprise_id, self.profile, self.registered_at = enterprise_id, profile, registered_at
        self.supervisors: list[str] = []
        self.closed_at = ""

    @event("ProfileChanged")
    def change(self, changes: dict[str, Any]) -> None:
        self.profile = {**self.profile, **changes}

    @event("SupervisorsChanged")
    def change_supervisors(self, departments: list[str]) -> None:
        self.supervisors = sorted(departments)

    @event("Closed")
    def close(self, at: str) -> None:
        self.closed_at = at

    @property
    def name(self) -> str:
        return str(self.profile.get("name", ""))

    @property
    def town(self) -> str:
        return str(self.profile.get("town", ""))

    def people(self) -> list[dict[str, str]]:
        """The legal representative, then the contacts; one entry per mobile."""
        found: list[dict[str, str]] = []
        seen: set[str] = set()
        candidates = [
            {
                "name": self.profile.get("legal_representative", ""),
                "mobile": self.profile.get("legal_representative_mobile", ""),
            },
            *(self.profile.get("contacts") or []),
        ]
        for person in candidates:
            mobile = str(person.get("mobile") or "")
            if mobile and mobile not in seen:
                seen.add(mobile)
                found.append({"kind": "person", "name": str(person.get("name") or ""), "address": mobile})
        return found


class Directory(InternalAggregate):
    """Every department (code → name, kind, town), every enterprise's name, the enterprises of each town."""

    @staticmethod
    def create_id(**_: Any) -> uuid.UUID:
        return DIRECTORY_ID

    @event("Opened")
    def __init__(self) -> None:
        self.departments: dict[str, dict[str, str]] = {}
        self.names: dict[str, str] = {}  # enterprise id → name
        self.towns: dict[str, dict[str, None]] = {}  # town → enterprise ids (an ordered set)

    @event("DepartmentRecorded")
    def record_department(self, code: str, fields: dict[str, str]) -> None:
        self.departments[code] = {**self.departments.get(code, {}), **fields}

    @event("EnterpriseRecorded")
    def record_enterprise(self, enterprise_id: str, name: str, town: str, old_town: str) -> None:
        self.names[enterprise_id] = name
        if old_town and old_town != town:
            self._town(old_town).pop(enterprise_id, None)
        self._town(town)[enterprise_id] = None

    def _town(self, town: str) -> dict[str, None]:
        """A town's enterprises as an ordered set (a list, in snapshots of an earlier version)."""
        members = self.towns.setdefault(town, {})
        if isinstance(members, list):
            members = self.towns[town] = dict.fromkeys(members)
        return members

    def department_name(self, code: str) -> str:
        return self.departments.get(code, {}).get("name", code)

    def town_office(self, town: str) -> str:
        """The code of the town's safety office (镇安委会办公室), or ""."""
        for code, fields in sorted(self.departments.items()):
            if fields.get("kind") == TOWN_OFFICE_KIND and fields.get("town") == town:
                return code
        return ""

    def enterprise_named_in(self, text: str, besides: str = "") -> str | None:
        """The registered enterprise whose name appears in `text` (the longest such name), if any.

        Looked up by the names' first two characters at each position of the (short) text, not by
        trying every registered name: a province has a hundred thousand of them."""
        by_prefix = _names_by_prefix(self)
        found = [
            (len(name), eid)
            for i in range(len(text) - 1)
            for name, eid in by_prefix.get(text[i : i + 2], ())
            if eid != besides and text.startswith(name, i)
        ]
        found += [(1, eid) for name, eid in by_prefix.get("", ()) if eid != besides and name in text]
        return max(found)[1] if found else None


# Kept beside the aggregate, not in it (it would go into snapshots); aggregates are not hashable, so
# the cache holds the last directory seen (one per process) and is rebuilt when it changed.
_PREFIXES: list[tuple[weakref.ref[Directory], int, dict[str, list[tuple[str, str]]]]] = []


def _names_by_prefix(directory: Directory) -> dict[str, list[tuple[str, str]]]:
    if _PREFIXES:
        ref, version, index = _PREFIXES[0]
        if ref() is directory and version == directory.version:
            return index
    index = {}
    for eid, name in directory.names.items():
        if name:
            index.setdefault(name[:2] if len(name) >= 2 else "", []).append((name, eid))
    _PREFIXES[:] = [(weakref.ref(directory), directory.version, index)]
    return index
