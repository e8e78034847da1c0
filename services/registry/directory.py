"""Department commands: register a department, change how its platform is reached, list them."""

from __future__ import annotations

from typing import Any

from services.backbone.conflicts import retried
from services.backbone.errors import ConflictError, NotFoundError, ValidationError
from services.registry.base import RegistryBase
from services.registry.departments import CHANGEABLE, Department, DepartmentKind, department_id
from services.registry.operator_input import check_department, department_code


class Directory(RegistryBase):
    """Departments, as the operator registers them."""

    @retried
    def add_department(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Registers a department. The same details again answer created=False; other details for a
        registered code are a conflict (change them with update_department). A town safety office
        starts supervising every enterprise of its town at once."""
        clean = check_department(fields)
        existing = self.find(department_id(clean["code"]))
        if isinstance(existing, Department) and existing.removed:
            raise ConflictError(
                "code", f"department {clean['code']} was removed; its filings keep the code: choose another"
            )
        if isinstance(existing, Department):
            held = existing.as_dict()
            # a receipt key left out says nothing: the one registered or pinned since stays
            if all(held[k] == v for k, v in clean.items() if v or k != "receipt_public_key"):
                return {**held, "created": False}
            raise ConflictError("code", f"department {clean['code']} is registered with other details")
        directory = self._directory()
        office = directory.town_office(clean["town"])
        if clean["kind"] == DepartmentKind.TOWN_OFFICE and office:
            raise ConflictError("town", f"{clean['town']} already has a safety office: {office}")
        department = Department(**clean)
        directory.enter(clean["code"], str(clean["kind"]), clean["town"])
        records: list[Any] = [department, directory]
        if clean["kind"] == DepartmentKind.TOWN_OFFICE:
            table, reindexer = self._table(), self._reindexer()
            town = self._enterprises(self._members("town", clean["town"]))
            records += [e for e in town if self._route(e, table, directory, reindexer)]
            records += reindexer.indexes()
        self.save(*records)
        return {**department.as_dict(), "created": True}

    @retried
    def update_department(self, code: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Changes a department's name, endpoint, TLS CA, credentials reference or receipt key."""
        fixed = sorted(set(changes) - set(CHANGEABLE))
        if fixed:
            raise ValidationError.many((f, "cannot be changed (register a new department)") for f in fixed)
        department = self._department(code)
        department.change(check_department(changes, partial=True))
        self.save(department)
        return department.as_dict()

    @retried
    def pin_receipt_key(self, code: str, public_key: str) -> dict[str, Any]:
        """Keeps the key a department's platform first signed a receipt with, when none was registered
        (trust on first use, as ssh does with a host key); a department that has a key keeps it. The
        answer holds the key now registered: the caller compares it with the one it saw."""
        department = self._department(code)
        if not department.receipt_public_key:
            department.change(check_department({"receipt_public_key": public_key}, partial=True))
            self.save(department)
        return department.as_dict()

    def get_department(self, code: str) -> dict[str, Any]:
        return self._department(code).as_dict()

    def list_departments(self, include_removed: bool = False) -> list[dict[str, Any]]:
        """The registered departments by code (and, with include_removed, the removed ones too)."""
        codes = set(self._directory().entries)
        if include_removed:
            codes |= set(self._directory().removed)
        # read together (one query on PostgreSQL), not one find each: the adapter asks twice a second
        found = self.get_many(department_id(code) for code in sorted(codes))
        return [
            d.as_dict()
            for code in sorted(codes)
            if isinstance(d := found.get(department_id(code)), Department)
        ]

    def _department(self, code: str) -> Department:
        """A department the hub has now: a removed one is not found (no filings, no answers, no
        tokens: whoever asks for it is told it was removed)."""
        found = self.find(department_id(department_code(code)))
        if not isinstance(found, Department):
            raise NotFoundError("code", f"no department {code}")
        if found.removed:
            raise NotFoundError("code", f"department {code} was removed")
        return found
