"""Hidden dangers and enforcement cases as primitives, the way RPC callers receive them."""

from __future__ import annotations

from typing import Any

from services.dangers.cases import EnforcementCase
from services.dangers.domain import HiddenDanger


def danger_view(danger: HiddenDanger) -> dict[str, Any]:
    return {
        "danger_id": str(danger.id),
        "enterprise_id": danger.enterprise_id,
        "risk_point_id": danger.risk_point_id,
        "source": danger.source,
        "state": str(danger.state),
        "grade": danger.grade,
        "removable_now": danger.removable_now,
        "finding": dict(danger.finding),
        "plan": dict(danger.plan),
        "submission": dict(danger.submission),
        "decisions": list(danger.decisions),
        "overdue_at": danger.overdue_at,
        "escalation": danger.escalation,
        "reported_at": danger.created_on.isoformat(),
        "version": danger.version,
    }


def case_view(case: EnforcementCase) -> dict[str, Any]:
    return {
        "case_id": str(case.id),
        "enterprise_id": case.enterprise_id,
        "danger_id": case.danger_id,
        "state": str(case.state),
        "reason": case.reason,
        "steps": [dict(step) for step in case.steps],
        "version": case.version,
    }
