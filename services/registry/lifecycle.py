"""The enforcement chain's orders on an enterprise: production suspended, resumed, enterprise closed."""

from __future__ import annotations

from typing import Any

from services.backbone.conflicts import retried
from services.registry.base import RegistryBase
from services.registry.domain import Enterprise
from services.registry.operator_input import check_order


class Lifecycle(RegistryBase):
    """Orders carry a reason, the document number (文书编号), the issuing authority and the date.

    (``close_enterprise``, not ``close``: Application.close() closes the store.)
    A forbidden transition raises TransitionError naming the current state; the same order sent
    again (same document number, already applied) changes nothing, so callers may retry.
    """

    @retried
    def suspend(
        self, enterprise_id: str, reason: str, document_no: str, authority: str, ordered_on: str
    ) -> dict[str, Any]:
        """停产整顿: production suspended for rectification."""
        order = check_order(reason, document_no, authority, ordered_on)
        enterprise = self._enterprise(enterprise_id)
        enterprise.suspend(**order)
        return self._saved(enterprise)

    @retried
    def resume(
        self, enterprise_id: str, reason: str, document_no: str, authority: str, ordered_on: str
    ) -> dict[str, Any]:
        """Production resumed after a suspension, on the authority's acceptance."""
        order = check_order(reason, document_no, authority, ordered_on)
        enterprise = self._enterprise(enterprise_id)
        enterprise.resume(**order)
        return self._saved(enterprise)

    @retried
    def close_enterprise(
        self, enterprise_id: str, reason: str, document_no: str, authority: str, ordered_on: str
    ) -> dict[str, Any]:
        """关闭取缔: closed by order. Final."""
        order = check_order(reason, document_no, authority, ordered_on)
        enterprise = self._enterprise(enterprise_id)
        enterprise.close(**order)
        return self._saved(enterprise)

    def _saved(self, enterprise: Enterprise) -> dict[str, Any]:
        self.save(enterprise)
        return {
            "enterprise_id": str(enterprise.id),
            "status": str(enterprise.status),
            "version": enterprise.version,
        }
