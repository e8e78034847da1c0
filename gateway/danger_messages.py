"""Hidden dangers and enforcement cases between protobuf messages and the dangers service's primitives."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hub.v1 import danger_pb2 as pb

GRADES = {"一般": pb.DANGER_GRADE_GENERAL, "重大": pb.DANGER_GRADE_MAJOR}
STATES = {
    "reported": pb.DANGER_STATE_REPORTED,
    "assessed": pb.DANGER_STATE_ASSESSED,
    "rectifying": pb.DANGER_STATE_RECTIFYING,
    "submitted": pb.DANGER_STATE_SUBMITTED,
    "verified": pb.DANGER_STATE_VERIFIED,
    "closed": pb.DANGER_STATE_CLOSED,
}
SOURCES = {
    "self_inspection": pb.DANGER_SOURCE_SELF_INSPECTION,
    "government_inspection": pb.DANGER_SOURCE_GOVERNMENT_INSPECTION,
}
INSPECTION_TYPES = {
    "日常": pb.INSPECTION_TYPE_ROUTINE,
    "综合性": pb.INSPECTION_TYPE_COMPREHENSIVE,
    "专业性": pb.INSPECTION_TYPE_SPECIALIZED,
    "季节性": pb.INSPECTION_TYPE_SEASONAL,
    "节假日前": pb.INSPECTION_TYPE_PRE_HOLIDAY,
    "复产复工前": pb.INSPECTION_TYPE_PRE_RESUMPTION,
    "事故类比": pb.INSPECTION_TYPE_ACCIDENT_ANALOGY,
}
HASHES = {"sm3": pb.HASH_ALGORITHM_SM3, "sha256": pb.HASH_ALGORITHM_SHA256}
CASE_STATES = {
    "opened": pb.CASE_STATE_OPENED,
    "penalised": pb.CASE_STATE_PENALISED,
    "exposed": pb.CASE_STATE_EXPOSED,
    "suspended": pb.CASE_STATE_SUSPENDED,
    "closed": pb.CASE_STATE_CLOSED,
    "concluded": pb.CASE_STATE_CONCLUDED,
}


def name_of(table: dict[str, int], value: int) -> str:
    """The domain's name of an enum value; "" for UNSPECIFIED, so the service names the missing field."""
    return next((name for name, number in table.items() if number == value), "")


def evidence_dicts(items: Iterable[pb.Evidence]) -> list[dict[str, str]]:
    return [
        {"uri": e.uri, "hash_algorithm": name_of(HASHES, e.hash_algorithm), "digest": e.digest} for e in items
    ]


def plan_dict(plan: pb.RectificationPlan) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "measures": list(plan.measures),
        "responsible_person": plan.responsible_person,
        "responsible_mobile": plan.responsible_mobile,
        "deadline": plan.deadline,
        "interim_measures": list(plan.interim_measures),
        "emergency_plan": plan.emergency_plan,
    }
    if plan.HasField("treatment_plan"):
        t = plan.treatment_plan
        fields["treatment_plan"] = {f.name: getattr(t, f.name) for f in t.DESCRIPTOR.fields}
    return fields


def _evidence(items: list[dict[str, str]]) -> list[pb.Evidence]:
    return [
        pb.Evidence(uri=e["uri"], hash_algorithm=HASHES.get(e["hash_algorithm"], 0), digest=e["digest"])
        for e in items
    ]


def danger_message(data: dict[str, Any]) -> pb.Danger:
    finding, plan, done = data["finding"], data["plan"], data["submission"]
    return pb.Danger(
        danger_id=data["danger_id"],
        enterprise_id=data["enterprise_id"],
        risk_point_id=data["risk_point_id"],
        source=SOURCES.get(data["source"], 0),
        state=STATES.get(data["state"], 0),
        grade=GRADES.get(data["grade"], 0),
        removable_now=data["removable_now"],
        finding=pb.DangerFinding(
            description=finding["description"],
            evidence=_evidence(finding["evidence"]),
            found_on=finding["found_on"],
            inspection_type=INSPECTION_TYPES.get(finding.get("inspection_type", ""), 0),
            reported_by=finding.get("reported_by", ""),
            inspector_name=finding.get("inspector_name", ""),
            department=finding.get("department", ""),
        ),
        plan=pb.RectificationPlan(
            measures=plan.get("measures", []),
            responsible_person=plan.get("responsible_person", ""),
            responsible_mobile=plan.get("responsible_mobile", ""),
            deadline=plan.get("deadline", ""),
            interim_measures=plan.get("interim_measures", []),
            emergency_plan=plan.get("emergency_plan", ""),
            treatment_plan=pb.TreatmentPlan(**plan["treatment_plan"]) if plan.get("treatment_plan") else None,
        ),
        rectification=pb.Rectification(
            rectified_by=done.get("rectified_by", ""),
            completed_on=done.get("completed_on", ""),
            summary=done.get("summary", ""),
            evidence=_evidence(done.get("evidence", [])),
        ),
        decisions=[pb.Decision(**d) for d in data["decisions"]],
        overdue_at=data["overdue_at"],
        escalation=data["escalation"],
        version=data["version"],
    )


STEP_FIELDS = {f.name for f in pb.CaseStep.DESCRIPTOR.fields}


def case_message(data: dict[str, Any]) -> pb.EnforcementCase:
    return pb.EnforcementCase(
        case_id=data["case_id"],
        enterprise_id=data["enterprise_id"],
        danger_id=data["danger_id"],
        state=CASE_STATES.get(data["state"], 0),
        reason=data["reason"],
        steps=[pb.CaseStep(**{k: v for k, v in step.items() if k in STEP_FIELDS}) for step in data["steps"]],
        version=data["version"],
    )
