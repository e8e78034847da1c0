"""Who sees what: a town office sees its town's enterprises, a department those it supervises.

Every query of an office's or a department's page is narrowed by its Scope, in SQL: a department's
page cannot list a row of an enterprise it does not supervise, whatever the filters it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TOWN_OFFICE = "镇安委会办公室"


@dataclass(frozen=True)
class Scope:
    """An office (by its town) or a department (by its code)."""

    department: str
    town: str = ""  # set for a town office: its scope is the town

    @property
    def is_office(self) -> bool:
        return bool(self.town)

    def where(self, enterprise_column: str = "enterprise_id", town_column: str = "town") -> str:
        """The SQL condition that keeps the rows in scope (parameters: `params`)."""
        if self.is_office:
            return f"{town_column} = %(scope_town)s"
        return (
            "EXISTS (SELECT 1 FROM @supervision sv WHERE sv.department = %(scope_department)s "
            f"AND sv.enterprise_id = {enterprise_column})"
        )

    @property
    def params(self) -> dict[str, Any]:
        return {"scope_town": self.town} if self.is_office else {"scope_department": self.department}


@dataclass
class Page:
    """One page of a list, with what the pager needs."""

    rows: list[dict[str, Any]]
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        return (self.number - 1) * self.size + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.total, self.number * self.size)


def page_number(value: Any, default: int = 1) -> int:
    """A page number from a query string: positive, and not so large as to overflow a query."""
    try:
        number = int(str(value))
    except ValueError:
        return default
    return min(max(number, 1), 1_000_000)
