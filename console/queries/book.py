"""一镇一册: the level-1/2 risk points in scope, paged, filtered and sorted by the read model's index."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from console.queries.scope import Page, Scope

PAGE_SIZE = 50
ORDERS = {  # the pages' sort keys; the first is the book's own order (and its index's)
    "level": "r.level, r.enterprise_name, r.name, r.id",
    "enterprise": "r.enterprise_name, r.level, r.name, r.id",
    "point": "r.name, r.level, r.enterprise_name, r.id",
    "location": "r.location, r.level, r.enterprise_name, r.id",
}
STATUSES = ("operating", "suspended", "closed")


@dataclass(frozen=True)
class BookFilter:
    """What the book's page was asked for; anything else in the query string is ignored."""

    level: int = 0  # 0: both
    department: str = ""
    q: str = ""
    status: str = ""
    order: str = "level"

    @classmethod
    def parse(cls, query: Any) -> BookFilter:
        level = str(query.get("level", ""))
        status = str(query.get("status", ""))
        order = str(query.get("order", "level"))
        return cls(
            level=int(level) if level in ("1", "2") else 0,
            department=str(query.get("department", ""))[:64],
            q=str(query.get("q", "")).strip()[:100],
            status=status if status in STATUSES else "",
            order=order if order in ORDERS else "level",
        )

    def conditions(self, scope: Scope) -> tuple[str, dict[str, Any]]:
        where = [scope.where("r.enterprise_id", "r.town"), "r.retired = 0"]
        params: dict[str, Any] = dict(scope.params)
        if self.level:
            where.append("r.level = %(level)s")
            params["level"] = self.level
        else:
            where.append("r.level <= 2")
        if self.department:
            where.append(
                "EXISTS (SELECT 1 FROM @supervision fd WHERE fd.department = %(department)s "
                "AND fd.enterprise_id = r.enterprise_id)"
            )
            params["department"] = self.department
        if self.q:
            where.append(
                "(r.enterprise_name LIKE %(q)s ESCAPE '!' OR r.name LIKE %(q)s ESCAPE '!' OR "
                "r.uscc = %(uscc)s)"
            )
            params["q"] = "%" + self.q.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"
            params["uscc"] = self.q.upper()
        if self.status:
            where.append(
                "EXISTS (SELECT 1 FROM @enterprises fe WHERE fe.id = r.enterprise_id AND "
                "fe.status = %(status)s)"
            )
            params["status"] = self.status
        return " AND ".join(where), params

    def query_string(self, **changes: Any) -> str:
        """The page's query string with some values changed (for pager and sort links)."""
        from urllib.parse import urlencode

        values = {
            "level": self.level or "",
            "department": self.department,
            "q": self.q,
            "status": self.status,
            "order": self.order,
            **changes,
        }
        return urlencode({k: v for k, v in values.items() if v not in ("", None, 0)})


COLUMNS = (
    "r.id, r.enterprise_id, r.enterprise_name, r.uscc, r.name, r.location, r.level, r.colour, "
    "r.accident_types, "
    "r.control_tier, r.control_measures, r.responsible_unit, r.responsible_person, r.responsible_mobile, "
    "e.status AS enterprise_status, e.supervisors"
)


def book_page(app: Any, scope: Scope, wanted: BookFilter, number: int, size: int = PAGE_SIZE) -> Page:
    """One page of the book, each line with its enterprise's status, departments and open major dangers.
    The page's ids are found in the index alone (their order is the index's), then its rows are read."""
    where, params = wanted.conditions(scope)
    if wanted.department or wanted.q or wanted.status:
        total = app.query(f"SELECT count(*) AS n FROM @risk_points r WHERE {where}", params)[0]["n"]
    else:  # the whole book, or one level of it: the enterprises' counts add up to it
        counts = book_counts(app, scope)
        total = counts[f"level_{wanted.level}"] if wanted.level else counts["level_1"] + counts["level_2"]
    number = min(number, max(1, -(-total // size)))
    order = ORDERS[wanted.order]
    rows = app.query(
        f"SELECT {COLUMNS} FROM @risk_points r LEFT JOIN @enterprises e ON e.id = r.enterprise_id "
        f"WHERE r.id IN (SELECT r.id FROM @risk_points r WHERE {where} ORDER BY {order} "
        f"LIMIT %(limit)s OFFSET %(offset)s) ORDER BY {order}",
        {**params, "limit": size, "offset": (number - 1) * size},
    )
    return Page(with_dangers(app, rows), total, number, size)


def book_rows(app: Any, scope: Scope, wanted: BookFilter) -> list[dict[str, Any]]:
    """Every line of the book as filtered (for CSV and XLSX), in the page's order."""
    where, params = wanted.conditions(scope)
    rows = app.query(
        f"SELECT {COLUMNS} FROM @risk_points r LEFT JOIN @enterprises e ON e.id = r.enterprise_id "
        f"WHERE {where} ORDER BY {ORDERS[wanted.order]}",
        params,
    )
    return with_dangers(app, rows)


def with_dangers(app: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each line's open major dangers (descriptions) and control measures as text."""
    ids = [r["id"] for r in rows]
    dangers: dict[str, list[str]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join(f"%(p{i})s" for i in range(len(chunk)))
        for d in app.query(
            f"SELECT risk_point_id, description FROM @dangers WHERE risk_point_id IN ({marks}) "
            "AND grade = '重大' AND state <> 'closed' ORDER BY reported_at",
            {f"p{i}": v for i, v in enumerate(chunk)},
        ):
            dangers.setdefault(d["risk_point_id"], []).append(d["description"])
    for row in rows:
        row["major_dangers"] = dangers.get(row["id"], [])
        row["control_measures"] = measures_text(row["control_measures"])
    return rows


def measures_text(stored: str) -> str:
    try:
        measures = json.loads(stored or "[]")
    except ValueError:
        return ""
    return "；".join(
        f"{m.get('type', '')}：{m.get('description', '')}" if isinstance(m, dict) else str(m)
        for m in measures
    )


def book_counts(app: Any, scope: Scope) -> dict[str, int]:
    """Level-1 and level-2 points in scope and the enterprises they belong to (from the enterprises'
    counts of their points)."""
    row = app.query(
        "SELECT sum(e.level1) AS l1, sum(e.level2) AS l2, "
        "sum(CASE WHEN e.level1 + e.level2 > 0 THEN 1 ELSE 0 END) AS n "
        f"FROM @enterprises e WHERE {scope.where('e.id', 'e.town')} AND e.registered_at <> ''",
        scope.params,
    )[0]
    return {"level_1": int(row["l1"] or 0), "level_2": int(row["l2"] or 0), "enterprises": int(row["n"] or 0)}
