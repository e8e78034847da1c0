"""Risk point messages ↔ the plain dicts the riskpoints service takes and returns."""

from __future__ import annotations

from typing import Any

from hub.v1 import riskpoint_pb2 as pb

from services.kernel.fields import RISK_POINT_LIST_FIELDS, RISK_POINT_TEXT_FIELDS

METHODS = {pb.ASSESSMENT_METHOD_LEC: "LEC", pb.ASSESSMENT_METHOD_LS: "LS"}
METHOD_ENUMS = {name: value for value, name in METHODS.items()}
STATUSES = {
    "created": pb.IMPORT_ITEM_STATUS_CREATED,
    "changed": pb.IMPORT_ITEM_STATUS_CHANGED,
    "unchanged": pb.IMPORT_ITEM_STATUS_UNCHANGED,
    "rejected": pb.IMPORT_ITEM_STATUS_REJECTED,
}
TEXT_FIELDS = RISK_POINT_TEXT_FIELDS
LIST_FIELDS = RISK_POINT_LIST_FIELDS


def assessment_dict(message: pb.AssessmentInput) -> dict[str, Any]:
    return {"method": METHODS.get(message.method, ""), "scores": dict(message.scores)}


def details_dict(message: pb.RiskPointInput) -> dict[str, Any]:
    fields: dict[str, Any] = {name: getattr(message, name) for name in TEXT_FIELDS}
    for name in LIST_FIELDS:
        fields[name] = list(getattr(message, name))
    fields["control_measures"] = [
        {"type": m.type, "description": m.description} for m in message.control_measures
    ]
    fields["control_tier"] = message.control_tier
    return fields


def input_dict(message: pb.RiskPointInput) -> dict[str, Any]:
    """A whole risk point as an ERP sends it (create, import)."""
    fields = details_dict(message)
    fields["external_id"] = message.external_id
    fields["assessment"] = assessment_dict(message.assessment) if message.HasField("assessment") else None
    return fields


def assessment_message(data: dict[str, Any]) -> pb.Assessment:
    return pb.Assessment(
        method=METHOD_ENUMS.get(data["method"], pb.ASSESSMENT_METHOD_UNSPECIFIED),
        scores=data["scores"],
        value=data["value"],
        level=data["level"],
        colour=data["colour"],
        reason=data.get("reason", ""),
        thresholds=data.get("thresholds", {}),
    )


def risk_point_message(data: dict[str, Any]) -> pb.RiskPoint:
    current = data["assessment"]
    details = pb.RiskPointInput(
        external_id=data["external_id"],
        **{name: data[name] for name in TEXT_FIELDS + LIST_FIELDS},
        assessment=pb.AssessmentInput(method=METHOD_ENUMS.get(current["method"]), scores=current["scores"]),
        control_tier=data["control_tier"] if data["control_tier_overridden"] else "",
        control_measures=[pb.ControlMeasure(**m) for m in data["control_measures"]],
    )
    return pb.RiskPoint(
        risk_point_id=data["risk_point_id"],
        enterprise_id=data["enterprise_id"],
        details=details,
        level=data["level"],
        colour=data["colour"],
        level_label=data["level_label"],
        control_tier=data["control_tier"],
        control_tier_overridden=data["control_tier_overridden"],
        assessments=[assessment_message(a) for a in data["assessments"]],
        retired=data["retired"],
        retired_reason=data["retired_reason"],
        version=data["version"],
    )


def item_result(index: int, external_id: str, result: dict[str, Any]) -> pb.ImportItemResult:
    return pb.ImportItemResult(
        index=index,
        external_id=external_id,
        status=STATUSES[result["status"]],
        risk_point_id=result.get("risk_point_id", ""),
        violations=[pb.FieldViolation(field=f, rule=r) for f, r in result.get("violations", ())],
    )


def progress_message(progress: dict[str, Any] | None) -> pb.ImportProgress:
    fields = ("received", "accepted", "created", "changed", "unchanged", "rejected", "pages")
    return pb.ImportProgress(**{k: int((progress or {}).get(k, 0)) for k in fields})
