"""The figures of a town's monthly report (每月通报), as of the end of the month.

Per enterprise (registered before the month's end and not closed by then):
  filing   "filed" (first register submitted by the deadline), "late" (after it, within the month),
           "missing" (none by the month's end, or none yet past the deadline), "not_due" (none yet,
           and the deadline still to come: 待报备, not 未报备); the departments whose answer to its
           latest submitted version is a rejection;
  dangers  open (reported, not closed) and overdue (found overdue, not closed) at the month's end;
  risks    level 1 and level 2 risk points in use at the month's end.
Per department: the same, summed over the enterprises it supervises, and its on-time rate. Lagging:
an enterprise that is missing, late, rejected or has overdue dangers; a department whose on-time rate
is below the configured share, or whose enterprises have overdue dangers.
"""

from __future__ import annotations

from typing import Any

from services.notifications.report.facts import EnterpriseFacts, Period, TownFacts

FILING = ("filed", "late", "missing", "not_due")
DANGERS = ("open_dangers", "overdue_dangers", "major_dangers")
TOTALS = ("enterprises", *FILING, *DANGERS)
LEVELS = ("level1", "level2")
DEPARTMENT_COUNTS = (*TOTALS, "acknowledged", "rejected", "pending", *LEVELS)


def filing_status(facts: EnterpriseFacts, period: Period, now: str = "") -> str:
    """How the enterprise stands in the month's filing cycle, seen at `now` (a stored instant)."""
    first = facts.filings.first_submitted_at()
    if first and first < period.deadline:
        return "filed"
    if first and first < period.cutoff:
        return "late"
    if not first and now and now < period.deadline:
        return "not_due"
    return "missing"


def enterprise_row(facts: EnterpriseFacts, period: Period, now: str = "") -> dict[str, Any]:
    cutoff = period.cutoff
    dangers = facts.dangers.at(cutoff)
    levels = list(facts.risks.levels_at(cutoff).values())
    outcomes = facts.filings.outcomes_at(cutoff)
    return {
        "enterprise_id": facts.enterprise_id,
        "name": facts.name,
        "uscc": facts.uscc,
        "supervisors": list(facts.supervisors),
        "filing": filing_status(facts, period, now),
        "first_submitted_at": facts.filings.first_submitted_at(),
        "outcomes": outcomes,
        "rejected_by": sorted(d for d, o in outcomes.items() if o == "rejected"),
        "open_dangers": len(dangers),
        "overdue_dangers": sum(1 for d in dangers if d["overdue"]),
        "major_dangers": sum(1 for d in dangers if d["major"]),
        "level1": levels.count(1),
        "level2": levels.count(2),
    }


def _department_rows(rows: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        for code in row["supervisors"]:
            dept = found.setdefault(
                code, {"code": code, "name": names.get(code, code), **dict.fromkeys(DEPARTMENT_COUNTS, 0)}
            )
            dept["enterprises"] += 1
            dept[row["filing"]] += 1
            outcome = row["outcomes"].get(code)
            if outcome in ("acknowledged", "rejected"):
                dept[outcome] += 1
            elif outcome is not None:
                dept["pending"] += 1
            for key in ("open_dangers", "overdue_dangers", "major_dangers", *LEVELS):
                dept[key] += row[key]
    for dept in found.values():
        dept["on_time_rate"] = round(dept["filed"] / dept["enterprises"], 4) if dept["enterprises"] else 1.0
    return sorted(found.values(), key=lambda d: d["code"])


def _lagging(
    rows: list[dict[str, Any]], departments: list[dict[str, Any]], names: dict[str, str], rate: float
) -> dict[str, list[dict[str, Any]]]:
    enterprises = []
    for row in rows:
        reasons = {"missing": ["未报备"], "late": ["逾期报备"], "filed": [], "not_due": []}[row["filing"]]
        if row["rejected_by"]:
            reasons.append("被退回：" + "、".join(names.get(c, c) for c in row["rejected_by"]))
        if row["overdue_dangers"]:
            reasons.append(f"逾期未整改隐患{row['overdue_dangers']}项")
        if reasons:
            enterprises.append(
                {
                    "enterprise_id": row["enterprise_id"],
                    "name": row["name"],
                    "uscc": row["uscc"],
                    "reasons": reasons,
                }
            )
    lagging_departments = []
    for dept in departments:
        reasons = []
        if dept["on_time_rate"] < rate:
            reasons.append(f"按期报备率{dept['on_time_rate']:.0%}（{dept['filed']}/{dept['enterprises']}）")
        if dept["overdue_dangers"]:
            reasons.append(f"所监管企业逾期未整改隐患{dept['overdue_dangers']}项")
        if reasons:
            lagging_departments.append({"code": dept["code"], "name": dept["name"], "reasons": reasons})
    lagging_departments.sort(
        key=lambda d: next(x["on_time_rate"] for x in departments if x["code"] == d["code"])
    )
    return {"enterprises": enterprises, "departments": lagging_departments}


def compute(facts: TownFacts, period: Period, lagging_rate: float, now: str = "") -> dict[str, Any]:
    """The report's figures for one month as seen at `now` (no comparison; see compare())."""
    rows = [enterprise_row(e, period, now) for e in facts.enterprises if e.active_at(period.cutoff)]
    rows.sort(key=lambda r: (r["name"], r["uscc"]))
    departments = _department_rows(rows, facts.departments)
    totals = {key: sum(r[key] for r in rows) for key in (*DANGERS, *LEVELS)}
    totals.update(enterprises=len(rows), **{s: sum(1 for r in rows if r["filing"] == s) for s in FILING})
    return {
        "town": facts.town,
        "month": period.month,
        "deadline": period.deadline_date,
        "cutoff": period.cutoff,
        "town_office": facts.town_office,
        "totals": {k: totals[k] for k in (*TOTALS, *LEVELS)},
        "departments": departments,
        "enterprises": rows,
        "lagging": _lagging(rows, departments, facts.departments, lagging_rate),
    }


def compare(current: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """The report with the previous month's totals and the change against them."""
    change = {k: current["totals"][k] - previous["totals"][k] for k in current["totals"]}
    return {
        **current,
        "previous": {"month": previous["month"], "totals": previous["totals"]},
        "change": change,
    }
