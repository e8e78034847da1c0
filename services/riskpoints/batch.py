"""One page of a bulk import: each item checked, compared with what is stored, and answered."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from services.backbone.errors import DomainError, ValidationError
from services.kernel.identity import risk_point_id
from services.riskpoints.bookkeeping import COUNTS, RiskPointIndex
from services.riskpoints.domain import RiskPoint, fingerprint, import_form
from services.riskpoints.grading import Thresholds
from services.riskpoints.validation import ItemInput, clean_item


def item_fingerprint(item: ItemInput) -> str:
    a = item.assessment
    form = import_form(item.details, str(a.method), dict(a.scores), int(a.level), item.control_tier)
    return fingerprint(form)


def violations_of(error: DomainError) -> list[list[str]]:
    pairs = error.violations if isinstance(error, ValidationError) else [(error.field, error.rule)]
    return [[field, rule] for field, rule in pairs]


class Page:
    """Applies a page of items to an enterprise's risk points; the caller saves `points` and `index`
    together. An item is either wholly applied or rejected with its fields and rules."""

    def __init__(
        self,
        enterprise: str,
        index: RiskPointIndex,
        load: Callable[[uuid.UUID], RiskPoint],
        thresholds: Thresholds,
    ) -> None:
        """`index` is the enterprise's index of risk points, `load` reads one of them by id, and
        `thresholds` grade the page's items."""
        self.enterprise, self.index, self.load, self.thresholds = enterprise, index, load, thresholds
        self._namespace = uuid.UUID(enterprise)  # parsed once for the page's items
        self.points: list[RiskPoint] = []
        self.results: list[dict[str, Any]] = []
        self.counts = dict.fromkeys(COUNTS, 0)
        self._fingerprints: dict[str, str] = {}
        self._seen: dict[str, int] = {}

    def apply(self, items: list[dict[str, Any]]) -> None:
        for position, raw in enumerate(items):
            self.counts["received"] += 1
            try:
                status, point_id = self._apply_one(position, raw)
            except DomainError as error:
                self.counts["rejected"] += 1
                self.results.append(
                    {"index": position, "status": "rejected", "violations": violations_of(error)}
                )
                continue
            self.counts["accepted"] += 1
            self.counts[status] += 1
            self.results.append({"index": position, "status": status, "risk_point_id": point_id})
        self.index.record(self._fingerprints)

    def _apply_one(self, position: int, raw: Any) -> tuple[str, str]:
        item = clean_item(raw, self.thresholds)
        if item.external_id in self._seen:
            raise ValidationError("external_id", f"repeats item {self._seen[item.external_id]} of this page")
        self._seen[item.external_id] = position
        point_uuid = risk_point_id(self._namespace, item.external_id)
        point_id = str(point_uuid)
        new = item_fingerprint(item)
        standing = self.index.standing(item.external_id, new)
        if standing == "unchanged":
            return "unchanged", point_id
        point: RiskPoint
        if standing == "new":
            point = RiskPoint.identify(
                self.enterprise,
                item.external_id,
                item.details,
                item.assessment,
                item.control_tier,
                point_uuid,
            )
            status = "created"
        else:
            point = self.load(point_uuid)
            changed: bool = point.change(item.details, item.assessment, item.control_tier, reason="import")
            status = "changed" if changed else "unchanged"
        self.points.append(point)
        self._fingerprints[item.external_id] = new
        return status, point_id
