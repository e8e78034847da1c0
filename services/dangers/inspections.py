"""A government inspection of an enterprise: who inspected, when, under which document, what was found."""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import HubAggregate

INSPECTIONS = uuid.UUID("1f6e0b3a-94c7-4d21-b8a5-7c3e9d2f6a18")


def inspection_id(department: str, document_no: str) -> uuid.UUID:
    """One inspection per department and document number (检查记录编号)."""
    return uuid.uuid5(INSPECTIONS, f"{department}/{document_no}")


def finding_id(inspection: uuid.UUID, index: int) -> uuid.UUID:
    """The hidden danger an inspection's n-th finding records (a retried call cannot duplicate it)."""
    return uuid.uuid5(inspection, f"finding/{index}")


class Inspection(HubAggregate):
    """Recorded once; findings became hidden dangers, re-inspections advanced their cases."""

    @staticmethod
    def create_id(department: str, document_no: str, **_: Any) -> uuid.UUID:
        return inspection_id(department, document_no)

    @event("Recorded")
    def __init__(
        self,
        enterprise_id: str,
        department: str,
        document_no: str,
        inspector_name: str,
        inspected_on: str,
        danger_ids: list[str],
        reinspections: list[dict[str, Any]],
        remarks: str,
    ) -> None:
        self.enterprise_id, self.department, self.document_no = enterprise_id, department, document_no
        self.inspector_name, self.inspected_on = inspector_name, inspected_on
        self.danger_ids, self.reinspections, self.remarks = danger_ids, reinspections, remarks
