"""The read model's risk points (riskpoints), hidden dangers, enforcement cases and inspections (dangers)."""

from __future__ import annotations

import json
from typing import Any

from console.readmodel.filing_rows import NAME_OF, TOWN_OF
from console.readmodel.work import ViewWork
from services.backbone.envelope import Envelope
from services.backbone.handlers import Handlers

USCC_OF = "COALESCE((SELECT uscc FROM @enterprises WHERE id = %(enterprise_id)s), '')"
POINT_TEXT = ("name", "location", "category", "responsible_unit", "responsible_person", "responsible_mobile")


def _point_columns(fields: dict[str, Any]) -> dict[str, Any]:
    """The columns a risk point's fields (all of them, or a change of some) set."""
    columns = {k: str(fields[k] or "") for k in POINT_TEXT if k in fields}
    if "accident_types" in fields:
        columns["accident_types"] = "、".join(fields["accident_types"] or [])
    if "control_measures" in fields:
        columns["control_measures"] = json.dumps(fields["control_measures"] or [], ensure_ascii=False)
    if "emergency_measures" in fields:
        columns["emergency_measures"] = json.dumps(fields["emergency_measures"] or [], ensure_ascii=False)
    if "control_tier" in fields and fields["control_tier"]:
        columns["control_tier"] = str(fields["control_tier"])
    if "level" in fields and fields["level"] is not None:
        columns["level"] = int(fields["level"])
        columns["colour"] = str(fields.get("colour") or "")
    assessment = fields.get("assessment")
    if isinstance(assessment, dict):
        columns["method"] = str(assessment.get("method") or "")
        columns["score"] = str(assessment.get("value") if assessment.get("value") is not None else "")
    return columns


def identified(uow: ViewWork, envelope: Envelope) -> None:
    p = envelope.payload
    columns = {
        "external_id": str(p.get("external_id", "")),
        **_point_columns(p),
        "assessed_at": envelope.occurred_at,
    }
    names = ", ".join(columns)
    uow.run(
        f"INSERT INTO @risk_points (id, enterprise_id, {names}, retired, town, enterprise_name, uscc) "
        f"VALUES (%(id)s, %(enterprise_id)s, {', '.join(f'%({c})s' for c in columns)}, 0, "
        f"{TOWN_OF}, {NAME_OF}, {USCC_OF}) "
        f"ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in columns)}, retired = 0",
        id=envelope.originator_id,
        enterprise_id=str(envelope.enterprise_id),
        **columns,
    )
    uow.moved(str(envelope.enterprise_id), envelope.originator_id)


def _update_point(uow: ViewWork, envelope: Envelope, columns: dict[str, Any]) -> None:
    if columns:
        sets = ", ".join(f"{c} = %({c})s" for c in columns)
        uow.run(f"UPDATE @risk_points SET {sets} WHERE id = %(id)s", id=envelope.originator_id, **columns)


def assessed(uow: ViewWork, envelope: Envelope) -> None:
    _update_point(uow, envelope, {**_point_columns(envelope.payload), "assessed_at": envelope.occurred_at})
    uow.moved(str(envelope.enterprise_id), envelope.originator_id)


def point_updated(uow: ViewWork, envelope: Envelope) -> None:
    _update_point(uow, envelope, _point_columns(envelope.payload.get("changes") or {}))


def retired(uow: ViewWork, envelope: Envelope) -> None:
    _update_point(uow, envelope, {"retired": 1})
    uow.moved(str(envelope.enterprise_id), envelope.originator_id)


# -- hidden dangers ------------------------------------------------------------------------------
def reported(uow: ViewWork, envelope: Envelope) -> None:
    p = envelope.payload
    finding = p.get("finding") or {}
    uow.run(
        "INSERT INTO @dangers (id, enterprise_id, risk_point_id, source, description, found_on, department, "
        "state, reported_at, town, enterprise_name) VALUES (%(id)s, %(enterprise_id)s, %(risk_point_id)s, "
        "%(source)s, %(description)s, %(found_on)s, %(department)s, 'reported', %(at)s, "
        f"{TOWN_OF}, {NAME_OF}) "
        "ON CONFLICT (id) DO NOTHING",
        id=envelope.originator_id,
        enterprise_id=str(envelope.enterprise_id),
        risk_point_id=str(p.get("risk_point_id", "")),
        source=str(p.get("source", "")),
        description=str(finding.get("description", "")),
        found_on=str(finding.get("found_on", "")),
        department=str(finding.get("department", "")),
        at=envelope.occurred_at,
    )


def _danger(**columns: Any) -> Any:
    """A handler that sets these columns (a callable value is computed from the envelope)."""

    def handler(uow: ViewWork, envelope: Envelope) -> None:
        values = {k: (v(envelope) if callable(v) else v) for k, v in columns.items()}
        sets = ", ".join(f"{c} = %({c})s" for c in values)
        uow.run(f"UPDATE @dangers SET {sets} WHERE id = %(id)s", id=envelope.originator_id, **values)

    return handler


def _plan(envelope: Envelope, key: str) -> str:
    return str((envelope.payload.get("plan") or {}).get(key, ""))


# -- enforcement cases and inspections -------------------------------------------------------------
def case_opened(uow: ViewWork, envelope: Envelope) -> None:
    p = envelope.payload
    step = p.get("step") or {}
    uow.run(
        "INSERT INTO @cases (id, enterprise_id, danger_id, department, state, reason, opened_on, "
        "last_step_on, "
        "document_no, town, enterprise_name) VALUES (%(id)s, %(enterprise_id)s, %(danger_id)s, "
        "%(department)s, "
        f"'opened', %(reason)s, %(on)s, %(on)s, %(document_no)s, {TOWN_OF}, {NAME_OF}) ON CONFLICT "
        "(id) DO NOTHING",
        id=envelope.originator_id,
        enterprise_id=str(envelope.enterprise_id),
        danger_id=str(p.get("danger_id", "")),
        department=str(step.get("authority", "")),
        reason=str(p.get("reason", "")),
        on=str(step.get("date", "")),
        document_no=str(step.get("document_no", "")),
    )


def _case(state: str | None) -> Any:
    def handler(uow: ViewWork, envelope: Envelope) -> None:
        p = envelope.payload
        new_state = state
        if state is None:  # a re-inspection: concluded when the danger is gone, else unchanged
            new_state = None if p.get("still_major") else "concluded"
        on = str((p.get("step") or {}).get("date") or p.get("ordered_on") or "")
        values: dict[str, Any] = {"last_step_on": on}
        if new_state:
            values["state"] = new_state
        if p.get("penalty"):
            values["penalty"] = json.dumps(p["penalty"], ensure_ascii=False)
        sets = ", ".join(f"{c} = %({c})s" for c in values)
        uow.run(f"UPDATE @cases SET {sets} WHERE id = %(id)s", id=envelope.originator_id, **values)

    return handler


def inspection_recorded(uow: ViewWork, envelope: Envelope) -> None:
    p = envelope.payload
    uow.run(
        "INSERT INTO @inspections (id, enterprise_id, department, document_no, inspector_name, inspected_on, "
        "findings, reinspections, town, enterprise_name) VALUES (%(id)s, %(enterprise_id)s, %(department)s, "
        f"%(document_no)s, %(inspector)s, %(on)s, %(findings)s, %(reinspections)s, {TOWN_OF}, {NAME_OF}) "
        "ON CONFLICT (id) DO NOTHING",
        id=envelope.originator_id,
        enterprise_id=str(envelope.enterprise_id),
        department=str(p.get("department", "")),
        document_no=str(p.get("document_no", "")),
        inspector=str(p.get("inspector_name", "")),
        on=str(p.get("inspected_on", "")),
        findings=len(p.get("danger_ids") or []),
        reinspections=len(p.get("reinspections") or []),
    )


def register(handlers: Handlers) -> None:
    on = handlers.on
    on("riskpoints", "RiskPoint.Identified")(identified)
    on("riskpoints", "RiskPoint.Assessed")(assessed)
    on("riskpoints", "RiskPoint.Updated")(point_updated)
    on("riskpoints", "RiskPoint.Retired")(retired)
    on("dangers", "HiddenDanger.Reported")(reported)
    on("dangers", "HiddenDanger.Assessed")(
        _danger(state="assessed", grade=lambda e: str(e.payload.get("grade", "")))
    )
    on("dangers", "HiddenDanger.RectificationPlanned")(
        _danger(
            state="rectifying",
            deadline=lambda e: _plan(e, "deadline"),
            responsible_person=lambda e: _plan(e, "responsible_person"),
        )
    )
    on("dangers", "HiddenDanger.RectificationSubmitted")(_danger(state="submitted"))
    on("dangers", "HiddenDanger.Verified")(_danger(state="verified"))
    on("dangers", "HiddenDanger.SentBack")(_danger(state="rectifying"))
    on("dangers", "HiddenDanger.Closed")(_danger(state="closed", closed_at=lambda e: e.occurred_at))
    on("dangers", "HiddenDanger.Overdue")(
        _danger(overdue_at=lambda e: str(e.payload.get("detected_at") or e.occurred_at))
    )
    on("dangers", "HiddenDanger.EscalatedToAuthorities")(
        _danger(escalated_at=lambda e: str(e.payload.get("escalated_at") or e.occurred_at))
    )
    on("dangers", "EnforcementCase.CaseOpened")(case_opened)
    on("dangers", "EnforcementCase.PenaltyImposed")(_case("penalised"))
    on("dangers", "EnforcementCase.ExposureRecorded")(_case("exposed"))
    on("dangers", "EnforcementCase.Reinspected")(_case(None))
    on("dangers", "EnforcementCase.SuspensionOrdered")(_case("suspended"))
    on("dangers", "EnforcementCase.ClosureOrdered")(_case("closed"))
    on("dangers", "Inspection.Recorded")(inspection_recorded)
