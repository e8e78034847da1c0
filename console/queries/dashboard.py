"""The dashboard's figures: risk points by level, filing standing, dangers, enforcement cases by step."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from console.queries.scope import Scope

SHANGHAI = timezone(timedelta(hours=8))
LEVELS = (1, 2, 3, 4)
STANDINGS = ("on_time", "late", "missing", "pending")
CASE_STEPS = ("opened", "penalised", "exposed", "suspended", "closed", "concluded")
OPEN_DANGER = "d.state <> 'closed'"
LIST_SIZE = 10


def closes_at(deadline: str) -> str:
    """The end of a deadline day in Asia/Shanghai, as the UTC text the read model compares with."""
    end = datetime.combine(date.fromisoformat(deadline) + timedelta(days=1), time(), SHANGHAI)
    return end.astimezone(UTC).isoformat()


def now_utc() -> str:
    return datetime.now(UTC).isoformat()


def risk_levels(app: Any, scope: Scope) -> dict[int, int]:
    """Active risk points in scope by level (the enterprises' counts added up)."""
    row = app.query(
        f"SELECT {', '.join(f'sum(e.level{n}) AS l{n}' for n in LEVELS)} FROM @enterprises e "
        f"WHERE {scope.where('e.id', 'e.town')} AND e.registered_at <> ''",
        scope.params,
    )[0]
    return {level: int(row[f"l{level}"] or 0) for level in LEVELS}


def current_campaign(app: Any, town: str) -> dict[str, Any] | None:
    """The town's campaign with the latest deadline."""
    rows = app.query(
        "SELECT name, deadline, opened_at FROM @campaigns WHERE town = %(town)s ORDER BY deadline "
        "DESC, name LIMIT 1",
        {"town": town},
    )
    return rows[0] if rows else None


def standing_case() -> str:
    """SQL: an enterprise's standing in a campaign closing at %(closes)s, seen at %(now)s."""
    return (
        "CASE WHEN e.first_submitted_at IS NULL THEN "
        "(CASE WHEN %(now)s >= %(closes)s THEN 'missing' ELSE 'pending' END) "
        "WHEN e.first_submitted_at < %(closes)s THEN 'on_time' ELSE 'late' END"
    )


def standings(app: Any, town: str, deadline: str, at: str = "") -> dict[str, int]:
    """Enterprises of the town (closed ones left out) by their standing in a campaign with this deadline."""
    rows = app.query(
        f"SELECT {standing_case()} AS standing, count(*) AS n FROM @enterprises e "
        "WHERE e.town = %(town)s AND e.registered_at <> '' AND e.status <> 'closed' GROUP BY 1",
        {"town": town, "closes": closes_at(deadline), "now": at or now_utc()},
    )
    found = {r["standing"]: int(r["n"]) for r in rows}
    return {s: found.get(s, 0) for s in STANDINGS}


def filing_states(app: Any, scope: Scope) -> dict[str, int]:
    """A department's deliveries by state: what it has received, answered, not yet received."""
    rows = app.query(
        "SELECT state, count(*) AS n FROM @deliveries WHERE department = %(scope_department)s GROUP BY state",
        {"scope_department": scope.department},
    )
    return {r["state"]: int(r["n"]) for r in rows}


def danger_counts(app: Any, scope: Scope) -> dict[str, int]:
    row = app.query(
        "SELECT count(*) AS open, "
        "sum(CASE WHEN d.grade = '重大' THEN 1 ELSE 0 END) AS major, "
        "sum(CASE WHEN d.overdue_at <> '' THEN 1 ELSE 0 END) AS overdue "
        f"FROM @dangers d WHERE {scope.where('d.enterprise_id', 'd.town')} AND {OPEN_DANGER}",
        scope.params,
    )[0]
    return {k: int(row[k] or 0) for k in ("open", "major", "overdue")}


def dangers_list(app: Any, scope: Scope, kind: str, limit: int = LIST_SIZE) -> list[dict[str, Any]]:
    """Open dangers that are overdue (kind "overdue") or major ("major"), most urgent first."""
    condition = "d.overdue_at <> ''" if kind == "overdue" else "d.grade = '重大'"
    order = "d.overdue_at, d.reported_at" if kind == "overdue" else "d.reported_at"
    return app.query(
        "SELECT d.id, d.enterprise_id, d.enterprise_name, d.description, d.grade, d.state, d.deadline, "
        f"d.overdue_at, d.reported_at FROM @dangers d WHERE {scope.where('d.enterprise_id', 'd.town')} "
        f"AND {OPEN_DANGER} AND {condition} ORDER BY {order} LIMIT %(limit)s",
        {**scope.params, "limit": limit},
    )


def case_steps(app: Any, scope: Scope) -> dict[str, int]:
    """Enforcement cases by the step they have reached (a department: the cases it opened)."""
    if scope.is_office:
        where, params = "c.town = %(scope_town)s", scope.params
    else:
        where, params = "c.department = %(scope_department)s", scope.params
    rows = app.query(f"SELECT c.state, count(*) AS n FROM @cases c WHERE {where} GROUP BY c.state", params)
    found = {r["state"]: int(r["n"]) for r in rows}
    return {s: found.get(s, 0) for s in CASE_STEPS}


def dashboard(app: Any, scope: Scope) -> dict[str, Any]:
    """Everything the dashboard shows, read from the read model."""
    figures: dict[str, Any] = {
        "levels": risk_levels(app, scope),
        "dangers": danger_counts(app, scope),
        "overdue": dangers_list(app, scope, "overdue"),
        "major": dangers_list(app, scope, "major"),
        "cases": case_steps(app, scope),
    }
    if scope.is_office:
        campaign = current_campaign(app, scope.town)
        figures["campaign"] = campaign
        figures["standings"] = standings(app, scope.town, campaign["deadline"]) if campaign else None
    else:
        figures["deliveries"] = filing_states(app, scope)
    return figures
