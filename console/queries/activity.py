"""Hidden dangers, enforcement cases, inspections and received filings in scope, paged."""

from __future__ import annotations

import json
from typing import Any

from console.queries.scope import Page, Scope

PAGE_SIZE = 50
DANGER_KINDS = {  # the dangers page's tabs
    "open": "d.state <> 'closed'",
    "major": "d.state <> 'closed' AND d.grade = '重大'",
    "overdue": "d.state <> 'closed' AND d.overdue_at <> ''",
    "closed": "d.state = 'closed'",
}
CASE_STATES = ("opened", "penalised", "exposed", "suspended", "closed", "concluded")
DELIVERY_STATES = ("pending", "delivered", "acknowledged", "rejected", "parked")


def _paged(app: Any, select: str, count: str, order: str, params: dict[str, Any], number: int) -> Page:
    total = app.query(count, params)[0]["n"]
    number = min(number, max(1, -(-total // PAGE_SIZE)))
    rows = app.query(
        f"{select} ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s",
        {**params, "limit": PAGE_SIZE, "offset": (number - 1) * PAGE_SIZE},
    )
    return Page(rows, total, number, PAGE_SIZE)


def dangers_page(app: Any, scope: Scope, kind: str, number: int) -> Page:
    condition = (
        f"{scope.where('d.enterprise_id', 'd.town')} AND {DANGER_KINDS.get(kind, DANGER_KINDS['open'])}"
    )
    return _paged(
        app,
        "SELECT d.*, r.name AS risk_point_name FROM @dangers d LEFT JOIN @risk_points r ON r.id = "
        "d.risk_point_id "
        f"WHERE {condition}",
        f"SELECT count(*) AS n FROM @dangers d WHERE {condition}",
        "d.overdue_at DESC, d.reported_at DESC, d.id" if kind == "overdue" else "d.reported_at DESC, d.id",
        scope.params,
        number,
    )


def cases_page(app: Any, scope: Scope, state: str, number: int) -> Page:
    """A town's cases (an office), or the cases a department opened."""
    where = "c.town = %(scope_town)s" if scope.is_office else "c.department = %(scope_department)s"
    params = dict(scope.params)
    if state in CASE_STATES:
        where += " AND c.state = %(state)s"
        params["state"] = state
    page = _paged(
        app,
        f"SELECT c.* FROM @cases c WHERE {where}",
        f"SELECT count(*) AS n FROM @cases c WHERE {where}",
        "c.opened_on DESC, c.id",
        params,
        number,
    )
    for row in page.rows:
        row["penalty"] = json.loads(row["penalty"]) if row["penalty"] else {}
    return page


def inspections_page(app: Any, department: str, number: int) -> Page:
    where = "i.department = %(department)s"
    return _paged(
        app,
        f"SELECT i.* FROM @inspections i WHERE {where}",
        f"SELECT count(*) AS n FROM @inspections i WHERE {where}",
        "i.inspected_on DESC, i.id",
        {"department": department},
        number,
    )


def received_page(app: Any, department: str, state: str, number: int) -> Page:
    """The filings addressed to a department, newest first, with its answer and receipt."""
    where = "v.department = %(department)s"
    params: dict[str, Any] = {"department": department}
    if state in DELIVERY_STATES:
        where += " AND v.state = %(state)s"
        params["state"] = state
    page = _paged(
        app,
        "SELECT v.*, f.document_hash FROM @deliveries v LEFT JOIN @filings f ON f.enterprise_id = "
        "v.enterprise_id "
        f"AND f.version = v.version WHERE {where}",
        f"SELECT count(*) AS n FROM @deliveries v WHERE {where}",
        "v.submitted_at DESC, v.enterprise_id, v.version DESC",
        params,
        number,
    )
    for row in page.rows:
        row["receipt"] = json.loads(row["receipt"]) if row["receipt"] else {}
    return page


def receipt(app: Any, department: str, enterprise_id: str, version: int) -> dict[str, Any] | None:
    rows = app.query(
        "SELECT v.*, f.document_hash, f.reason AS filing_reason FROM @deliveries v LEFT JOIN @filings f "
        "ON f.enterprise_id = v.enterprise_id AND f.version = v.version "
        "WHERE v.department = %(department)s AND v.enterprise_id = %(id)s AND v.version = %(version)s",
        {"department": department, "id": enterprise_id, "version": version},
    )
    if not rows:
        return None
    found = rows[0]
    found["receipt"] = json.loads(found["receipt"]) if found["receipt"] else {}
    return found
