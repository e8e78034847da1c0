"""A town's filing campaigns and each enterprise's standing in one (on time, late, missing, pending)."""

from __future__ import annotations

from typing import Any

from console.queries.dashboard import STANDINGS, closes_at, now_utc, standings
from console.queries.scope import Page

PAGE_SIZE = 50
CONDITIONS = {  # the standing of an enterprise, as a condition on its row
    "on_time": "e.first_submitted_at IS NOT NULL AND e.first_submitted_at < %(closes)s",
    "late": "e.first_submitted_at IS NOT NULL AND e.first_submitted_at >= %(closes)s",
    "missing": "e.first_submitted_at IS NULL AND %(now)s >= %(closes)s",
    "pending": "e.first_submitted_at IS NULL AND %(now)s < %(closes)s",
}
LAGGING = ("missing", "pending")  # the enterprises a reminder goes to


def campaigns(app: Any, town: str) -> list[dict[str, Any]]:
    rows = app.query(
        "SELECT name, deadline, opened_at FROM @campaigns WHERE town = %(town)s ORDER BY deadline DESC, name",
        {"town": town},
    )
    for row in rows:
        row["standings"] = standings(app, town, row["deadline"])
    return rows


def campaign(app: Any, town: str, name: str) -> dict[str, Any] | None:
    rows = app.query(
        "SELECT name, deadline, opened_at FROM @campaigns WHERE town = %(town)s AND name = %(name)s",
        {"town": town, "name": name},
    )
    return rows[0] if rows else None


def standing_page(app: Any, town: str, deadline: str, standing: str, number: int) -> Page:
    """The town's enterprises with their standing (only those of one standing when asked), by name."""
    params: dict[str, Any] = {"town": town, "closes": closes_at(deadline), "now": now_utc()}
    where = "e.town = %(town)s AND e.registered_at <> '' AND e.status <> 'closed'"
    if standing in CONDITIONS:
        where += f" AND {CONDITIONS[standing]}"
    total = app.query(f"SELECT count(*) AS n FROM @enterprises e WHERE {where}", params)[0]["n"]
    number = min(number, max(1, -(-total // PAGE_SIZE)))
    case = " ".join(f"WHEN {CONDITIONS[s]} THEN '{s}'" for s in STANDINGS)
    rows = app.query(
        f"SELECT e.id, e.name, e.uscc, e.first_submitted_at, e.filed_version, CASE {case} END AS standing "
        f"FROM @enterprises e WHERE {where} ORDER BY e.name, e.id LIMIT %(limit)s OFFSET %(offset)s",
        {**params, "limit": PAGE_SIZE, "offset": (number - 1) * PAGE_SIZE},
    )
    return Page(rows, total, number, PAGE_SIZE)


def lagging(app: Any, town: str, deadline: str) -> list[dict[str, Any]]:
    """The enterprises that have not filed yet (missing or pending): whom a reminder goes to."""
    params = {"town": town, "closes": closes_at(deadline), "now": now_utc()}
    return app.query(
        "SELECT e.id AS enterprise_id, e.name FROM @enterprises e WHERE e.town = %(town)s "
        "AND e.registered_at <> '' AND e.status <> 'closed' AND e.first_submitted_at IS NULL ORDER BY e.name",
        params,
    )
