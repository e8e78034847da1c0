"""The routing table: which departments supervise an enterprise, from its industry and its town.

A rule maps (industry, town) to department codes; either side may be the wildcard ``*``. An enterprise
is supervised by the union of the departments of *every* rule that matches it, so rules compose:
``(*, *) → 消防`` plus ``(化工, *) → 安监`` gives a chemical plant both. (A most-specific-wins table would
make the operator repeat the general departments in every specific rule.) The town safety office of the
enterprise's town is added by the registry on top of the table, always.
"""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import HubAggregate

WILDCARD = "*"
ROUTING_TABLE_ID = uuid.UUID("9a3f6c2d-1e4b-4f7a-8c5d-6b2e1f0a9d33")


def matches(pattern: str, value: str) -> bool:
    return pattern in (WILDCARD, value)


class RoutingTable(HubAggregate):
    """The operator's table of rules (industry × town → department codes); there is one."""

    @staticmethod
    def create_id(**_: Any) -> uuid.UUID:
        return ROUTING_TABLE_ID

    @event("Opened")
    def __init__(self) -> None:
        self.rules: list[dict[str, Any]] = []  # [{"industry", "town", "departments"}], sorted

    def rule(self, industry: str, town: str) -> list[str]:
        for rule in self.rules:
            if (rule["industry"], rule["town"]) == (industry, town):
                return list(rule["departments"])
        return []

    def set_rule(self, industry: str, town: str, departments: list[str]) -> bool:
        """Sets (or with no departments removes) one rule; False when nothing changes."""
        departments = sorted(set(departments))
        if departments == self.rule(industry, town):
            return False
        if departments:
            self._rule_set(industry=industry, town=town, departments=departments)
        else:
            self._rule_removed(industry=industry, town=town)
        return True

    @event("RuleSet")
    def _rule_set(self, industry: str, town: str, departments: list[str]) -> None:
        others = [r for r in self.rules if (r["industry"], r["town"]) != (industry, town)]
        new = {"industry": industry, "town": town, "departments": departments}
        self.rules = sorted([*others, new], key=lambda r: (r["industry"], r["town"]))

    @event("RuleRemoved")
    def _rule_removed(self, industry: str, town: str) -> None:
        self.rules = [r for r in self.rules if (r["industry"], r["town"]) != (industry, town)]

    def drop_department(self, code: str) -> bool:
        """Takes a department out of every rule (a rule left with none is removed); False when no
        rule named it."""
        changed = False
        for rule in list(self.rules):
            if code in rule["departments"]:
                others = [c for c in rule["departments"] if c != code]
                changed = self.set_rule(rule["industry"], rule["town"], others) or changed
        return changed

    def route(self, industry: str, town: str) -> list[str]:
        """The department codes of every rule matching the enterprise's industry and town."""
        found: set[str] = set()
        for rule in self.rules:
            if matches(rule["industry"], industry) and matches(rule["town"], town):
                found.update(rule["departments"])
        return sorted(found)
