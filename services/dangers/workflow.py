"""The hidden-danger workflow: the enterprise reports, assesses, plans and submits; a supervising
department verifies (someone other than the rectifier), sends back, or closes (销号)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from services.backbone.conflicts import retried
from services.dangers import clock
from services.dangers.base import DangersBase, RiskPointOwners
from services.dangers.domain import HiddenDanger
from services.dangers.holdings import holdings_id
from services.dangers.plans import (
    check_assessment,
    check_decision,
    check_plan,
    check_report,
    check_submission,
)
from services.dangers.records import DangerList, list_id
from services.dangers.views import danger_view
from services.dangers.vocabulary import Source
from services.kernel.validation import uuid_field


class Workflow(DangersBase):
    """Each use case gets → calls → saves, and returns the danger as primitives."""

    # -- the enterprise -------------------------------------------------------------------------
    @retried
    def report(
        self,
        caller: str,
        fields: dict[str, Any],
        owners: RiskPointOwners,
        idempotency_key: str = "",
        after: int = 0,
    ) -> dict[str, Any]:
        """A danger found by the enterprise's own inspection on one of its risk points; a retry with the
        same key adds nothing. `after`: how far the caller's writes reached in riskpoints."""
        enterprise = uuid_field(caller, "enterprise_id")
        risk_point_id, finding = check_report(fields)
        danger_id = uuid.uuid5(enterprise, f"danger/{idempotency_key}") if idempotency_key else uuid.uuid4()
        listed, held = list_id(str(enterprise)), holdings_id(str(enterprise))
        # the enterprise's risk points and list, and the retried danger (when keyed), read together
        found = self.get_many([held, danger_id, listed] if idempotency_key else [held, listed])
        self._own_risk_points(
            str(enterprise), [("risk_point_id", risk_point_id)], owners, found.get(held), after
        )
        existing = found.get(danger_id)
        if isinstance(existing, HiddenDanger):
            return {**danger_view(existing), "created": False}
        danger = HiddenDanger.found(
            danger_id=danger_id,
            enterprise_id=str(enterprise),
            risk_point_id=risk_point_id,
            source=str(Source.SELF_INSPECTION),
            finding=finding,
        )
        dangers = found.get(listed) or DangerList(str(enterprise))
        dangers.add(str(danger.id))
        self.save(danger, dangers)
        return {**danger_view(danger), "created": True}

    @retried
    def assess(self, caller: str, danger_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        danger = self._own_danger(caller, danger_id)
        danger.allow("assess")
        danger.assess(*check_assessment(fields))
        self.save(danger)
        return danger_view(danger)

    @retried
    def plan(self, caller: str, danger_id: str, fields: dict[str, Any], now: datetime) -> dict[str, Any]:
        """Measures, the responsible person and a deadline no earlier than today in Shanghai."""
        danger = self._own_danger(caller, danger_id)
        danger.allow("plan")
        danger.plan_rectification(check_plan(fields, danger.grade, danger.removable_now, clock.today(now)))
        index = self._deadlines()
        index.track(danger)
        self.save(danger, index)
        return danger_view(danger)

    @retried
    def submit(self, caller: str, danger_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        danger = self._own_danger(caller, danger_id)
        danger.allow("submit")
        danger.submit(check_submission(fields))
        index = self._deadlines()
        index.untrack(str(danger.id))
        self.save(danger, index)
        return danger_view(danger)

    def get(self, caller: str, danger_id: str) -> dict[str, Any]:
        return danger_view(self._own_danger(caller, danger_id))

    def list_dangers(self, caller: str, state: str = "") -> list[dict[str, Any]]:
        enterprise = str(uuid_field(caller, "enterprise_id"))
        found = (self._danger(d) for d in self._danger_list(enterprise).danger_ids)
        return [danger_view(d) for d in found if not state or d.state == state]

    # -- the supervising department -------------------------------------------------------------
    def _supervised_danger(self, department: str, danger_id: str) -> HiddenDanger:
        danger = self._danger(danger_id)
        self._supervised(department, danger.enterprise_id)
        return danger

    @retried
    def verify(self, department: str, danger_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        danger = self._supervised_danger(department, danger_id)
        danger.allow("verify")
        danger.verify(check_decision(fields, department, ("verifier", "verified_on", "remarks")))
        self.save(danger)
        return danger_view(danger)

    @retried
    def send_back(self, department: str, danger_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Back to rectifying, with the reason; the deadline runs again (the timer may find it passed)."""
        danger = self._supervised_danger(department, danger_id)
        danger.allow("send_back")
        danger.send_back(
            check_decision(fields, department, ("inspector_name", "sent_back_on", "reason"), True)
        )
        index = self._deadlines()
        index.track(danger)
        self.save(danger, index)
        return danger_view(danger)

    @retried
    def close_danger(self, department: str, danger_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """销号: a verified danger leaves the register of open dangers."""
        danger = self._supervised_danger(department, danger_id)
        danger.allow("close")
        danger.close(check_decision(fields, department, ("inspector_name", "closed_on", "remarks")))
        self.save(danger)
        return danger_view(danger)
