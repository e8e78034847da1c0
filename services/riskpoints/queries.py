"""What the riskpoints application answers without changing anything."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from services.riskpoints.base import RiskPointsBase, enterprise_uuid
from services.riskpoints.bookkeeping import STARTED_TOPIC
from services.riskpoints.domain import RiskPoint, risk_point_id

if TYPE_CHECKING:
    pass


def as_dict(point: RiskPoint) -> dict[str, Any]:
    return {
        "risk_point_id": str(point.id),
        "enterprise_id": point.enterprise_id,
        "external_id": point.external_id,
        **point.details(),
        "level": int(point.level),
        "colour": point.level.colour,
        "level_label": point.level.label,
        "control_tier": point.control_tier,
        "control_tier_overridden": point.control_tier_override is not None,
        "assessment": point.assessment,
        "assessments": list(point.assessments),
        "retired": point.retired,
        "retired_reason": point.retired_reason,
        "version": point.version,
        "identified_at": point.created_on.isoformat(),
        "modified_at": point.modified_on.isoformat(),
    }


class Reads(RiskPointsBase):
    """What the riskpoints application answers without changing anything."""

    def get(self, enterprise_id: str, risk_point: str) -> dict[str, Any]:
        return as_dict(self._owned(enterprise_uuid(enterprise_id), risk_point))

    def owners_of(self, enterprise_id: str, risk_point_ids: list[str]) -> dict[str, str]:
        """Each risk point id → "own" (the enterprise's, in use), "other" (another enterprise's) or
        "missing" (none such, or retired); ids that are no UUID count as missing."""
        enterprise = enterprise_uuid(enterprise_id)
        wanted: dict[str, UUID] = {}
        for rid in risk_point_ids[:1000]:
            try:
                wanted[rid] = UUID(str(rid))
            except ValueError:
                continue
        found = self.get_many(wanted.values())
        standing = {}
        for rid in risk_point_ids[:1000]:
            point = found.get(wanted[rid]) if rid in wanted else None
            if not isinstance(point, RiskPoint) or point.retired:
                standing[rid] = "missing"
            else:
                standing[rid] = "own" if point.enterprise_id == enterprise else "other"
        return standing

    def read(self, risk_point: str) -> dict[str, Any]:
        """Any enterprise's risk point (operators, the warning card on the command line)."""
        return as_dict(self._point(risk_point))

    def list_points(
        self, enterprise_id: str, offset: int = 0, limit: int = 100, include_retired: bool = False
    ) -> dict[str, Any]:
        index = self.index(enterprise_uuid(enterprise_id))
        keys = sorted(index.entries) if include_retired else index.active()
        offset, limit = max(int(offset), 0), min(max(int(limit), 1), 500)
        chosen = keys[offset : offset + limit]
        points: list[RiskPoint] = [self.repository.get(risk_point_id(index.enterprise_id, k)) for k in chosen]
        following = offset + len(chosen)
        return {
            "risk_points": [as_dict(p) for p in points],
            "total": len(keys),
            "next_offset": following if following < len(keys) else 0,
        }

    def imports(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest bulk imports with their counts, newest first."""
        ids: list[UUID] = []
        start = 1
        while page := self.recorder.select_notifications(start=start, limit=1000, topics=[STARTED_TOPIC]):
            ids.extend(n.originator_id for n in page)  # type: ignore[misc]
            start = page[-1].id + 1
        return [self.repository.get(i).as_dict() for i in reversed(ids[-limit:])]

    def thresholds(self) -> dict[str, Any]:
        return self.localities.as_dict()
