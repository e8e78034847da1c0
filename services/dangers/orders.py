"""The enforcement case's orders, each with its date, document number (文书编号) and issuing authority:
顶格处罚, 曝光, 停产整顿, 关闭取缔. The case keeps their order; the registry hears of the last two."""

from __future__ import annotations

from typing import Any

from services.backbone.conflicts import retried
from services.dangers import penalties
from services.dangers.base import DangersBase
from services.dangers.cases import EnforcementCase
from services.dangers.plans import check_step
from services.dangers.views import case_view
from services.kernel.validation import bounded_int

# Above any fine the law sets (安全生产法 tops out at 10,000,000 yuan); the penalty table decides the rest.
MAX_FINE = 10**9


class Orders(DangersBase):
    """A supervising department's steps on a case it may act on."""

    def _supervised_case(self, department: str, case: str) -> EnforcementCase:
        found = self._case(case)
        self._supervised(department, found.enterprise_id)
        return found

    @retried
    def impose_penalty(self, department: str, case: str, fields: dict[str, Any]) -> dict[str, Any]:
        found = self._supervised_case(department, case)
        step = check_step(fields, department, "imposed_on", "violation")
        amount = bounded_int(fields.get("amount") or 0, "amount", 0, MAX_FINE)
        found.impose_penalty(
            penalties.table(self.env.get("HUB_PENALTIES_FILE", "")), step.pop("violation"), amount, step
        )
        self.save(found)
        return case_view(found)

    @retried
    def record_exposure(self, department: str, case: str, fields: dict[str, Any]) -> dict[str, Any]:
        found = self._supervised_case(department, case)
        step = check_step(fields, department, "exposed_on", "medium")
        found.record_exposure(step.pop("medium"), step)
        self.save(found)
        return case_view(found)

    @retried
    def order_suspension(self, department: str, case: str, fields: dict[str, Any]) -> dict[str, Any]:
        found = self._supervised_case(department, case)
        step = check_step(fields, department, "ordered_on", "reason")
        found.order_suspension(step.pop("reason"), step)
        self.save(found)
        return case_view(found)

    @retried
    def order_closure(self, department: str, case: str, fields: dict[str, Any]) -> dict[str, Any]:
        found = self._supervised_case(department, case)
        step = check_step(fields, department, "ordered_on", "reason")
        found.order_closure(step.pop("reason"), step)
        self.save(found)
        return case_view(found)

    def get_case(self, department: str, case: str) -> dict[str, Any]:
        return case_view(self._supervised_case(department, case))
