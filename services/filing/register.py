"""Compiling the register document and the diff of two versions (its signed bytes: kernel.canonical)."""

from __future__ import annotations

from typing import Any

from services.kernel.fields import PROFILE_FIELDS, RISK_POINT_DETAIL_FIELDS, RISK_POINT_GRADE_FIELDS

FORMAT = "hub.register/v1"
ENTERPRISE_FIELDS = ("uscc", *PROFILE_FIELDS)
# A risk point in the register: what the seed asks for (adjacent units are notified, not filed).
RISK_POINT_FIELDS = (
    "id",
    "external_id",
    *(f for f in RISK_POINT_DETAIL_FIELDS if f != "adjacent_units"),
    *RISK_POINT_GRADE_FIELDS,
)
DANGER_FIELDS = ("id", "description", "grade", "status", "deadline", "measures")


def compile_document(
    enterprise: dict[str, Any],
    risk_points: list[dict[str, Any]],
    dangers: list[dict[str, Any]],
    departments: list[dict[str, str]],
) -> dict[str, Any]:
    """The register as the seed prescribes it: enterprise basics, every active risk point with its
    hidden dangers and controls, and the supervising authorities. No timestamps, no version: the
    same facts always compile to the same bytes."""
    by_point: dict[str, list[dict[str, Any]]] = {}
    for danger in dangers:
        by_point.setdefault(str(danger.get("risk_point_id", "")), []).append(
            {k: danger.get(k) for k in DANGER_FIELDS}
        )
    points = []
    for point in risk_points:
        if point.get("retired"):
            continue
        entry = {k: point.get(k) for k in RISK_POINT_FIELDS}
        entry["hidden_dangers"] = by_point.get(str(point.get("id")), [])
        points.append(entry)
    return {
        "format": FORMAT,
        "enterprise": {
            "enterprise_id": enterprise["enterprise_id"],
            **{k: enterprise.get(k) for k in ENTERPRISE_FIELDS},
        },
        "risk_points": points,
        "supervising_departments": departments,
    }


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """What changed between two versions: risk points added, removed, re-graded or edited;
    hidden dangers opened or closed; supervising departments added or removed."""
    before = {p["id"]: p for p in old.get("risk_points", [])}
    after = {p["id"]: p for p in new.get("risk_points", [])}
    regraded, edited = [], []
    for pid in sorted(before.keys() & after.keys()):
        b, a = before[pid], after[pid]
        moved = b.get("level") != a.get("level")
        if moved:
            regraded.append({"id": pid, "name": a.get("name"), "from": b.get("level"), "to": a.get("level")})
        # a re-grade brings its colour and default tier along: not an edit of its own
        follows = set(RISK_POINT_GRADE_FIELDS) if moved else {"level"}
        fields = sorted(k for k in RISK_POINT_FIELDS if k not in follows and b.get(k) != a.get(k))
        if fields:
            level = a.get("level")
            edited.append({"id": pid, "name": a.get("name"), "from": level, "to": level, "fields": fields})
    open_before = _open_dangers(old)
    open_after = _open_dangers(new)
    departments_before = {d["code"] for d in old.get("supervising_departments", [])}
    departments_after = {d["code"] for d in new.get("supervising_departments", [])}
    return {
        "risk_points_added": [_brief(after[p], "to") for p in sorted(after.keys() - before.keys())],
        "risk_points_removed": [_brief(before[p], "from") for p in sorted(before.keys() - after.keys())],
        "risk_points_regraded": regraded,
        "risk_points_edited": edited,
        "dangers_opened": [open_after[d] for d in sorted(open_after.keys() - open_before.keys())],
        "dangers_closed": [open_before[d] for d in sorted(open_before.keys() - open_after.keys())],
        "departments_added": sorted(departments_after - departments_before),
        "departments_removed": sorted(departments_before - departments_after),
        "enterprise_changed": sorted(
            k for k in new.get("enterprise", {}) if old.get("enterprise", {}).get(k) != new["enterprise"][k]
        ),
    }


def _brief(point: dict[str, Any], side: str) -> dict[str, Any]:
    """An added point has a level to (none from), a removed one a level from (none to)."""
    return {"id": point["id"], "name": point.get("name"), side: point.get("level")}


def _open_dangers(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for point in document.get("risk_points", []):
        for danger in point.get("hidden_dangers", []):
            if danger.get("status") != "closed":
                found[danger["id"]] = {
                    "id": danger["id"],
                    "risk_point_id": point["id"],
                    "grade": danger.get("grade"),
                    "description": danger.get("description"),
                }
    return found
