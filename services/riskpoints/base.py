"""What the riskpoints service's use cases share: its store and how it finds aggregates."""

from __future__ import annotations

from services.backbone.errors import NotFoundError, PermissionDeniedError
from services.backbone.store import HubApplication
from services.kernel.validation import uuid_field
from services.riskpoints.bookkeeping import Import, RiskPointIndex, import_id_of, index_id
from services.riskpoints.domain import RiskPoint
from services.riskpoints.localities import Localities


def enterprise_uuid(enterprise_id: str) -> str:
    return str(uuid_field(enterprise_id, "enterprise_id"))


class RiskPointsBase(HubApplication):
    """The riskpoints service's store, the localities' thresholds, and finding its aggregates."""

    service = "riskpoints"

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self.localities = Localities.from_file(self.env.get("HUB_THRESHOLDS_FILE") or None)

    def index(self, enterprise: str) -> RiskPointIndex:
        found: RiskPointIndex | None = self.find(index_id(enterprise))
        return found or RiskPointIndex(enterprise_id=enterprise)

    def import_progress(self, enterprise: str, import_id: str) -> Import:
        found: Import | None = self.find(import_id_of(enterprise, import_id))
        return found or Import(enterprise_id=enterprise, import_id=import_id)

    def _point(self, risk_point: str) -> RiskPoint:
        found = self.find(uuid_field(risk_point, "risk_point_id"))
        if not isinstance(found, RiskPoint):
            raise NotFoundError("risk_point_id", f"no risk point {risk_point}")
        return found

    def _owned(self, enterprise: str, risk_point: str) -> RiskPoint:
        point = self._point(risk_point)
        if point.enterprise_id != enterprise:
            raise PermissionDeniedError("risk_point_id", "the risk point belongs to another enterprise")
        return point
