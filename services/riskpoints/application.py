"""Risk point use cases: get → call → save, returning primitives."""

from __future__ import annotations

from typing import Any, ClassVar

from services.backbone.conflicts import retried
from services.backbone.errors import (
    ConflictError,
)
from services.kernel.fields import check_changes
from services.riskpoints import batch
from services.riskpoints.base import enterprise_uuid
from services.riskpoints.bookkeeping import (
    RETIRED,
    RiskPointIndex,
)
from services.riskpoints.domain import KEEP, RiskPoint, fingerprint, risk_point_id
from services.riskpoints.queries import Reads, as_dict
from services.riskpoints.validation import (
    DETAIL_FIELDS,
    clean_assessment,
    clean_details,
    clean_item,
    clean_tier,
    texts,
)

CHANGEABLE = (*DETAIL_FIELDS, "control_tier")


class RiskPointsApplication(Reads):
    """The riskpoints service's application on its own store."""

    service = "riskpoints"
    # Every page of a bulk import reads the enterprise's index (a fingerprint per risk point) and the
    # import's progress, which the page before changed: kept in memory and brought up to date with the
    # events stored since (eventsourcing's fast-forward: one query), not decoded from a snapshot and
    # the events after it on every page. Commands get a copy; a failed save leaves the kept one as it was.
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "1024"}
    snapshotting_intervals = {RiskPointIndex: 20}

    # -- commands --------------------------------------------------------------------------
    @retried
    def create(self, enterprise_id: str, fields: dict[str, Any], town: str = "") -> dict[str, Any]:
        """Identifies and grades a risk point. Sending the same one again answers with it (created False)."""
        enterprise = enterprise_uuid(enterprise_id)
        item = clean_item(fields, self.localities.thresholds_for(town))
        index = self.index(enterprise)
        standing = index.standing(item.external_id, batch.item_fingerprint(item))
        if standing != "new":
            existing = self._owned(enterprise, str(risk_point_id(enterprise, item.external_id)))
            if standing == "changed":
                raise ConflictError(
                    "external_id",
                    f"risk point {item.external_id} exists ({existing.id}): update or re-assess it",
                )
            return {**as_dict(existing), "created": False}
        point = RiskPoint.identify(
            enterprise, item.external_id, item.details, item.assessment, item.control_tier
        )
        self._save(point, index)
        return {**as_dict(point), "created": True}

    @retried
    def assess(
        self,
        enterprise_id: str,
        risk_point: str,
        assessment: dict[str, Any],
        reason: str = "",
        town: str = "",
        adjacent_units: list[str] | None = None,
    ) -> dict[str, Any]:
        """Re-assesses a risk point: a new event in its history, never an overwrite."""
        point = self._owned(enterprise_uuid(enterprise_id), risk_point)
        graded = clean_assessment(assessment, self.localities.thresholds_for(town))
        details = (
            {}
            if adjacent_units is None
            else {"adjacent_units": texts(adjacent_units, "adjacent_units", False, 100)}
        )
        point.change(details, graded, reason=str(reason or "").strip())
        self._save(point)
        return as_dict(point)

    @retried
    def update(self, enterprise_id: str, risk_point: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Changes details and/or the requested control tier (raised only) of a risk point."""
        point = self._owned(enterprise_uuid(enterprise_id), risk_point)  # another's: refused first
        check_changes(changes, CHANGEABLE)
        details = clean_details(changes, partial=True)
        tier = clean_tier(changes["control_tier"]) if "control_tier" in changes else KEEP
        point.change(details, tier=tier)
        self._save(point)
        return as_dict(point)

    @retried
    def retire(self, enterprise_id: str, risk_point: str, reason: str) -> dict[str, Any]:
        point = self._owned(enterprise_uuid(enterprise_id), risk_point)
        point.retire(str(reason or "").strip())
        self._save(point)
        return as_dict(point)

    @retried
    def upsert_batch(
        self,
        enterprise_id: str,
        items: list[dict[str, Any]],
        town: str = "",
        import_id: str = "",
        finish: bool = False,
    ) -> dict[str, Any]:
        """One page of a bulk import: an answer per item, every valid item saved in one transaction;
        with `finish`, the import's last page: it is marked finished in the same transaction."""
        enterprise = enterprise_uuid(enterprise_id)
        page = batch.Page(
            enterprise, self.index(enterprise), self.repository.get, self.localities.thresholds_for(town)
        )
        page.apply(items)
        progress = self.import_progress(enterprise, import_id) if import_id else None
        if progress is not None:
            progress.page_saved(page.counts)
            if finish:
                progress.finish()
        self.save(*page.points, page.index, progress)
        return {"results": page.results, "counts": page.counts, "progress": progress and progress.as_dict()}

    @retried
    def finish_import(self, enterprise_id: str, import_id: str) -> dict[str, Any]:
        progress = self.import_progress(enterprise_uuid(enterprise_id), import_id)
        progress.finish()
        self.save(progress)
        return progress.as_dict()

    def _save(self, point: RiskPoint, index: RiskPointIndex | None = None) -> None:
        """Saves a risk point with its index entry, in one transaction."""
        index = index or self.index(point.enterprise_id)
        index.record({point.external_id: RETIRED if point.retired else fingerprint(point.import_form())})
        self.save(point, index)
