"""Enterprises in scope: the list, and one enterprise's page (its rows of the read model)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from console.queries.scope import Page, Scope

PAGE_SIZE = 50
POINTS_SHOWN = 200  # an enterprise's page lists this many risk points, most dangerous first
FILED = ("yes", "no")


@dataclass(frozen=True)
class EnterpriseFilter:
    q: str = ""
    status: str = ""
    filed: str = ""

    @classmethod
    def parse(cls, query: Any) -> EnterpriseFilter:
        status, filed = str(query.get("status", "")), str(query.get("filed", ""))
        return cls(
            q=str(query.get("q", "")).strip()[:100],
            status=status if status in ("operating", "suspended", "closed") else "",
            filed=filed if filed in FILED else "",
        )

    def query_string(self, **changes: Any) -> str:
        values = {"q": self.q, "status": self.status, "filed": self.filed, **changes}
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


def like(text: str) -> str:
    return "%" + text.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"


def enterprise_page(app: Any, scope: Scope, wanted: EnterpriseFilter, number: int) -> Page:
    where = [scope.where("e.id", "e.town"), "e.registered_at <> ''"]
    params: dict[str, Any] = dict(scope.params)
    if wanted.q:
        where.append("(e.name LIKE %(q)s ESCAPE '!' OR e.uscc = %(uscc)s)")
        params.update(q=like(wanted.q), uscc=wanted.q.upper())
    if wanted.status:
        where.append("e.status = %(status)s")
        params["status"] = wanted.status
    if wanted.filed:
        where.append("e.filed_version > 0" if wanted.filed == "yes" else "e.filed_version = 0")
    condition = " AND ".join(where)
    total = app.query(f"SELECT count(*) AS n FROM @enterprises e WHERE {condition}", params)[0]["n"]
    number = min(number, max(1, -(-total // PAGE_SIZE)))
    rows = app.query(
        "SELECT e.id, e.name, e.uscc, e.town, e.industry, e.status, e.supervisors, e.filed_version, "
        "e.last_version, e.last_submitted_at, "
        "(SELECT count(*) FROM @risk_points r WHERE r.enterprise_id = e.id AND r.retired = 0 AND "
        "r.level <= 2) "
        "AS major_points, "
        "(SELECT count(*) FROM @dangers d WHERE d.enterprise_id = e.id AND d.state <> 'closed') "
        "AS open_dangers "
        f"FROM @enterprises e WHERE {condition} ORDER BY e.name, e.id LIMIT %(limit)s OFFSET %(offset)s",
        {**params, "limit": PAGE_SIZE, "offset": (number - 1) * PAGE_SIZE},
    )
    return Page(rows, total, number, PAGE_SIZE)


def enterprise_in_scope(app: Any, scope: Scope, enterprise_id: str) -> dict[str, Any] | None:
    """The enterprise's row, or None when it is not in scope (or unknown): the page shows neither."""
    rows = app.query(
        f"SELECT * FROM @enterprises e WHERE e.id = %(id)s AND {scope.where('e.id', 'e.town')}",
        {**scope.params, "id": enterprise_id},
    )
    if not rows:
        return None
    found = rows[0]
    found["contacts"] = json.loads(found.get("contacts") or "[]")
    return found


def enterprise_by_id(app: Any, enterprise_id: str) -> dict[str, Any] | None:
    """Any enterprise (an auditor's view: auditors read everything)."""
    rows = app.query("SELECT * FROM @enterprises WHERE id = %(id)s", {"id": enterprise_id})
    return rows[0] if rows else None


def risk_points(app: Any, enterprise_id: str) -> tuple[list[dict[str, Any]], int]:
    rows = app.query(
        "SELECT * FROM @risk_points WHERE enterprise_id = %(id)s AND retired = 0 "
        "ORDER BY level, name, id LIMIT %(limit)s",
        {"id": enterprise_id, "limit": POINTS_SHOWN},
    )
    total = app.query(
        "SELECT count(*) AS n FROM @risk_points WHERE enterprise_id = %(id)s AND retired = 0",
        {"id": enterprise_id},
    )[0]["n"]
    return rows, total


def dangers_with_timelines(app: Any, enterprise_id: str) -> list[dict[str, Any]]:
    """The enterprise's hidden dangers, newest first, each with its events in order."""
    dangers = app.query(
        "SELECT d.*, r.name AS risk_point_name FROM @dangers d LEFT JOIN @risk_points r ON r.id = "
        "d.risk_point_id "
        "WHERE d.enterprise_id = %(id)s ORDER BY d.reported_at DESC LIMIT 100",
        {"id": enterprise_id},
    )
    if not dangers:
        return []
    marks = ", ".join(f"%(d{i})s" for i in range(len(dangers)))
    events = app.query(
        f"SELECT originator_id, type, occurred_at, summary FROM @events WHERE originator_id IN ({marks}) "
        "ORDER BY occurred_at, originator_version",
        {f"d{i}": d["id"] for i, d in enumerate(dangers)},
    )
    by_danger: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_danger.setdefault(event["originator_id"], []).append(event)
    for danger in dangers:
        danger["timeline"] = by_danger.get(danger["id"], [])
    return dangers


def filings(app: Any, enterprise_id: str) -> list[dict[str, Any]]:
    """Register versions, newest first, each with its departments' delivery states."""
    versions = app.query(
        "SELECT * FROM @filings WHERE enterprise_id = %(id)s ORDER BY version DESC", {"id": enterprise_id}
    )
    deliveries = app.query(
        "SELECT version, department, state, reason, receipt, updated_at FROM @deliveries "
        "WHERE enterprise_id = %(id)s ORDER BY department",
        {"id": enterprise_id},
    )
    by_version: dict[int, list[dict[str, Any]]] = {}
    for d in deliveries:
        d["receipt"] = json.loads(d["receipt"]) if d["receipt"] else {}
        by_version.setdefault(int(d["version"]), []).append(d)
    for v in versions:
        v["deliveries"] = by_version.get(int(v["version"]), [])
    return versions


def cases(app: Any, enterprise_id: str) -> list[dict[str, Any]]:
    rows = app.query(
        "SELECT * FROM @cases WHERE enterprise_id = %(id)s ORDER BY opened_on DESC", {"id": enterprise_id}
    )
    for row in rows:
        row["penalty"] = json.loads(row["penalty"]) if row["penalty"] else {}
    return rows


def inspections(app: Any, enterprise_id: str) -> list[dict[str, Any]]:
    return app.query(
        "SELECT * FROM @inspections WHERE enterprise_id = %(id)s ORDER BY inspected_on DESC",
        {"id": enterprise_id},
    )


def point_in(app: Any, enterprise_id: str, point_id: str) -> dict[str, Any] | None:
    rows = app.query(
        "SELECT * FROM @risk_points WHERE id = %(id)s AND enterprise_id = %(e)s",
        {"id": point_id, "e": enterprise_id},
    )
    return rows[0] if rows else None
