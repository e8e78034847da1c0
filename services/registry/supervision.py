"""Who supervises whom: the routing table, manual supervisors, enterprises by town or department."""

from __future__ import annotations

from typing import Any

from services.backbone.conflicts import retried
from services.backbone.errors import NotFoundError, ValidationError
from services.registry.base import RegistryBase, summary
from services.registry.departments import DepartmentDirectory, DepartmentKind
from services.registry.domain import Enterprise
from services.registry.operator_input import collect_violations, department_code, routing_pattern
from services.registry.routing import WILDCARD, matches


def _check_codes(codes: list[str], directory: DepartmentDirectory, field: str) -> list[str]:
    violations: list[tuple[str, str]] = []
    clean: list[str] = []
    for i, value in enumerate(codes):
        try:
            code = department_code(value, f"{field}[{i}]")
        except ValidationError as error:
            violations.extend(error.violations)
            continue
        if code not in directory:
            violations.append((f"{field}[{i}]", f"no department {code} is registered"))
        elif directory.kind_of(code) == DepartmentKind.TOWN_OFFICE:
            violations.append(
                (f"{field}[{i}]", f"{code} is a town safety office: it supervises its town always")
            )
        clean.append(code)
    if violations:
        raise ValidationError.many(violations)
    return clean


class Supervision(RegistryBase):
    """Routing-table and supervisor commands, and listings (operator and department actions only)."""

    # -- the routing table -----------------------------------------------------------------
    @retried
    def set_routing_rule(self, industry: str, town: str, departments: list[str]) -> dict[str, Any]:
        """Sets one rule (no departments: removes it) and re-routes every enterprise it matches."""
        directory = self._directory()
        rule = collect_violations(
            {
                "industry": lambda: routing_pattern(industry, "industry"),
                "town": lambda: routing_pattern(town, "town"),
                "departments": lambda: _check_codes(list(departments), directory, "departments"),
            }
        )
        codes = rule.pop("departments")
        table = self._table()
        if not table.set_rule(rule["industry"], rule["town"], codes):
            return {**rule, "departments": table.rule(rule["industry"], rule["town"]), "reassigned": 0}
        reindexer = self._reindexer()
        affected = self._matching(rule["industry"], rule["town"])
        changed = [e for e in affected if self._route(e, table, directory, reindexer)]
        self.save(table, *changed, *reindexer.indexes())
        return {**rule, "departments": sorted(set(codes)), "reassigned": len(changed)}

    @retried
    def apply_routing(self) -> dict[str, Any]:
        """Re-routes every enterprise by the current table (idempotent: only differences are saved).

        A registration that read the table just before a concurrent rule change saved it keeps the
        old routing (the change did not see it in the index yet); this repairs that, and anything else.
        """
        table, directory, reindexer = self._table(), self._directory(), self._reindexer()
        enterprises = self._enterprises(self._all_enterprise_ids())
        changed = [e for e in enterprises if self._route(e, table, directory, reindexer)]
        self.save(*changed, *reindexer.indexes())
        return {"checked": len(enterprises), "reassigned": len(changed)}

    def routing_table(self) -> dict[str, Any]:
        table = self._table()
        return {"rules": [dict(r) for r in table.rules], "version": table.version if table.rules else 0}

    def _matching(self, industry: str, town: str) -> list[Enterprise]:
        if town != WILDCARD:
            ids: Any = self._members("town", town)
        elif industry != WILDCARD:
            ids = self._members("industry", industry)
        else:
            ids = self._all_enterprise_ids()
        return [e for e in self._enterprises(ids) if matches(industry, e.industry) and matches(town, e.town)]

    # -- manual supervisors ----------------------------------------------------------------
    @retried
    def add_supervisor(self, enterprise_id: str, department: str) -> dict[str, Any]:
        """Adds a department by hand; it stays whatever the routing table later says."""
        code = department_code(department, "department")
        directory = self._directory()
        if code not in directory:
            raise NotFoundError("department", f"no department {code} is registered")
        enterprise = self._enterprise(enterprise_id)
        manual = sorted({*enterprise.manual_supervisors, code})
        return self._save_supervisors(enterprise, directory, manual)

    @retried
    def remove_supervisor(self, enterprise_id: str, department: str) -> dict[str, Any]:
        """Removes a department added by hand; a routed one goes only by changing the routing table."""
        code = department_code(department, "department")
        enterprise = self._enterprise(enterprise_id)
        if code not in enterprise.manual_supervisors:
            if code in enterprise.supervisors:
                raise ValidationError(
                    "department",
                    f"{code} is routed (industry × town, or the town's office): change the table",
                )
            raise NotFoundError("department", f"{code} does not supervise this enterprise")
        manual = [c for c in enterprise.manual_supervisors if c != code]
        return self._save_supervisors(enterprise, self._directory(), manual)

    def _save_supervisors(
        self, enterprise: Enterprise, directory: DepartmentDirectory, manual: list[str]
    ) -> dict[str, Any]:
        reindexer = self._reindexer()
        self._route(enterprise, self._table(), directory, reindexer, manual=manual)
        self.save(enterprise, *reindexer.indexes())
        return {
            "enterprise_id": str(enterprise.id),
            "supervisors": list(enterprise.supervisors),
            "manual_supervisors": list(enterprise.manual_supervisors),
            "version": enterprise.version,
        }

    # -- listings --------------------------------------------------------------------------
    def list_enterprises(
        self, town: str | None = None, department: str | None = None
    ) -> list[dict[str, Any]]:
        """Enterprises of a town and/or supervised by a department (neither: all), by credit code."""
        if town and department:
            ids: Any = sorted(set(self._members("town", town)) & set(self._members("department", department)))
        elif town:
            ids = self._members("town", town)
        elif department:
            ids = self._members("department", department)
        else:
            ids = self._all_enterprise_ids()
        return sorted(
            (summary(e) for e in self._enterprises(ids)), key=lambda s: s["unified_social_credit_code"]
        )
