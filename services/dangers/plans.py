"""What a report, an assessment, a rectification plan and a submission must contain."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.dangers.checks import Checks
from services.dangers.vocabulary import Grade, InspectionType, Source
from services.kernel.validation import due

# 《安全生产事故隐患排查治理暂行规定》第十五条: the six parts of a major danger's treatment plan (治理方案).
TREATMENT_PARTS = {
    "goal": "治理的目标和任务",
    "measures": "采取的方法和措施",
    "funds": "经费的落实",
    "materials": "物资的落实",
    "people": "负责治理的机构和人员",
    "deadline": "治理的时限和要求",
    "safety_measures": "安全措施",
    "emergency_measures": "应急预案",
}


def check_finding(fields: dict[str, Any], source: Source, checks: Checks, prefix: str = "") -> dict[str, Any]:
    """The finding of a self-inspection (its type) or of a government inspection (who found it)."""
    finding: dict[str, Any] = {
        "description": checks.text(fields.get("description"), f"{prefix}description"),
        "evidence": checks.evidence(fields.get("evidence"), f"{prefix}evidence"),
        "found_on": checks.date(fields.get("found_on"), f"{prefix}found_on"),
    }
    if source == Source.SELF_INSPECTION:
        kind = checks.choice(fields.get("inspection_type"), f"{prefix}inspection_type", InspectionType)
        finding["inspection_type"] = str(kind or "")
        finding["reported_by"] = checks.text(fields.get("reported_by"), f"{prefix}reported_by", False, 100)
    else:
        # Checked once for the whole inspection.
        finding["inspector_name"] = str(fields.get("inspector_name", ""))
        finding["department"] = str(fields.get("department", ""))
    return finding


def check_report(fields: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A self-inspection report: the risk point and the finding; every violation at once."""
    checks = Checks()
    risk_point_id = checks.uuid(fields.get("risk_point_id"), "risk_point_id")
    finding = check_finding(fields, Source.SELF_INSPECTION, checks)
    checks.done()
    return risk_point_id, finding


def check_assessment(fields: dict[str, Any]) -> tuple[Grade, bool, str]:
    checks = Checks()
    grade = checks.choice(fields.get("grade"), "grade", Grade)
    assessed_by = checks.text(fields.get("assessed_by"), "assessed_by", max_length=100)
    checks.done()
    assert grade is not None
    return grade, bool(fields.get("removable_now", True)), assessed_by


def check_plan(fields: dict[str, Any], grade: str, removable_now: bool, today: date) -> dict[str, Any]:
    """Measures, responsible person, deadline; interim measures and an emergency plan when the danger
    cannot be removed at once; a complete treatment plan (治理方案) for a major danger."""
    checks = Checks()
    plan: dict[str, Any] = {
        "measures": checks.texts(fields.get("measures"), "measures"),
        "responsible_person": checks.text(
            fields.get("responsible_person"), "responsible_person", max_length=100
        ),
        "responsible_mobile": checks.mobile(fields.get("responsible_mobile"), "responsible_mobile"),
        "deadline": checks.date(fields.get("deadline"), "deadline", due(today)),
        "interim_measures": checks.texts(fields.get("interim_measures"), "interim_measures", False),
        "emergency_plan": checks.text(fields.get("emergency_plan"), "emergency_plan", False),
        "treatment_plan": {},
    }
    if not removable_now:
        for field, label in (("interim_measures", "临时措施"), ("emergency_plan", "应急预案")):
            if not plan[field]:
                checks.fail(field, f"is required: a danger not removable at once needs {label}")
    given = fields.get("treatment_plan") or {}
    if grade != Grade.MAJOR and str(given.get("deadline") or "").strip():
        # not asked of a general danger, but a deadline given is a deadline: it must be one
        checks.date(given.get("deadline"), "treatment_plan.deadline", due(today))
    if grade == Grade.MAJOR:
        treatment = {}
        for part, label in TREATMENT_PARTS.items():
            field = f"treatment_plan.{part}"
            if not str(given.get(part) or "").strip():
                checks.fail(field, f"is required: a major danger's treatment plan states {label}")
            elif part == "deadline":
                treatment[part] = checks.date(given.get(part), field, due(today))
            else:
                treatment[part] = checks.text(given.get(part), field)
        plan["treatment_plan"] = treatment
    checks.done()
    return plan


def check_submission(fields: dict[str, Any]) -> dict[str, Any]:
    checks = Checks()
    submission = {
        "rectified_by": checks.text(fields.get("rectified_by"), "rectified_by", max_length=100),
        "completed_on": checks.date(fields.get("completed_on"), "completed_on"),
        "summary": checks.text(fields.get("summary"), "summary"),
        "evidence": checks.evidence(fields.get("evidence")),
    }
    checks.done()
    return submission


def check_decision(
    fields: dict[str, Any], department: str, names: tuple[str, str, str], reason_required: bool = False
) -> dict[str, Any]:
    """A department's decision on a danger: who decided, on which day, remarks (a reason to send back).
    `fields` has "by", "on" and "remarks"; `names` are the request's field names for them."""
    checks = Checks()
    decision = {
        "by": checks.text(fields.get("by"), names[0], max_length=100),
        "department": department,
        "on": checks.date(fields.get("on"), names[1]),
        "remarks": checks.text(fields.get("remarks"), names[2], reason_required),
    }
    checks.done()
    return decision


def check_step(fields: dict[str, Any], department: str, date_field: str, *texts: str) -> dict[str, Any]:
    """An enforcement step: its document number (文书编号), date, issuing authority and the named texts."""
    checks = Checks()
    step: dict[str, Any] = {
        "document_no": checks.text(fields.get("document_no"), "document_no", max_length=200),
        "authority": department,
        "date": checks.date(fields.get(date_field), date_field),
    }
    extra = {name: checks.text(fields.get(name), name) for name in texts}
    checks.done()
    return {**step, **extra}
