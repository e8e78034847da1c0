"""What the dangers service's use cases share: loading aggregates, ownership."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from services.backbone.errors import NotFoundError, PermissionDeniedError
from services.backbone.store import HubApplication
from services.dangers.cases import EnforcementCase
from services.dangers.domain import HiddenDanger
from services.dangers.holdings import UPSTREAM, RiskPointHoldings, holdings_id
from services.dangers.records import (
    COVERAGE_ID,
    DEPARTMENTS_ID,
    CoverageIndex,
    DangerList,
    DepartmentKinds,
    EnterpriseRecord,
    list_id,
    record_id,
)
from services.kernel.validation import uuid_field

# Where risk points stand for an enterprise, asked of the riskpoints service: each id → "own", "other"
# (another enterprise's) or "missing".
RiskPointOwners = Callable[[str, list[str]], dict[str, str]]


class DangersBase(HubApplication):
    """The dangers service's store and the helpers its use cases share."""

    @property
    def escalation_delay(self) -> timedelta:
        """How long after a danger fell overdue the town office and the departments hear of it."""
        days = self.env.get("HUB_ESCALATION_DELAY_DAYS") or "3"
        return timedelta(days=float(days))

    def _own_risk_points(
        self,
        enterprise: str,
        refs: list[tuple[str, str]],
        owners: RiskPointOwners,
        held: RiskPointHoldings | None = None,
        after: int = 0,
    ) -> None:
        """A danger is found on a risk point of its own enterprise: each (field, risk point id) must name
        one of `enterprise`'s, or NotFoundError names the field (another's is not told apart from one
        that does not exist). The enterprise's holdings (`held`, services/dangers/holdings.py) answer
        for the risk points they hold, unless the caller's writes reached riskpoints position `after`
        and the view has not yet (a retirement may be on its way); `owners` answers for the rest."""
        if not refs:
            return
        wanted = sorted({rid for _, rid in refs})
        standing = held.standing(wanted) if held is not None else {}
        if after and "own" in standing.values() and (self.recorder.max_tracking_id(UPSTREAM) or 0) < after:
            standing = {rid: s for rid, s in standing.items() if s != "own"}
        unknown = [rid for rid in wanted if rid not in standing]
        if unknown:
            standing.update(owners(enterprise, unknown))
        for field, rid in refs:
            if standing.get(rid) != "own":
                raise NotFoundError(field, f"the enterprise has no risk point {rid}")

    def _danger(self, danger_id: str) -> HiddenDanger:
        found = self.find(uuid_field(danger_id, "danger_id"))
        if not isinstance(found, HiddenDanger):
            raise NotFoundError("danger_id", f"no hidden danger {danger_id}")
        return found

    def _own_danger(self, caller: str, danger_id: str) -> HiddenDanger:
        """The caller's own danger; another enterprise's is refused (not hidden: ids are not secret)."""
        danger = self._danger(danger_id)
        if danger.enterprise_id != caller:
            raise PermissionDeniedError("danger_id", "an enterprise reads and changes only its own dangers")
        return danger

    def _case(self, case_id: str) -> EnforcementCase:
        found = self.find(uuid_field(case_id, "case_id"))
        if not isinstance(found, EnforcementCase):
            raise NotFoundError("case_id", f"no enforcement case {case_id}")
        return found

    def _enterprise_record(self, enterprise_id: str) -> EnterpriseRecord | None:
        return self.find(record_id(enterprise_id))

    def _supervised(self, department: str, enterprise_id: str) -> EnterpriseRecord:
        """The enterprise's record, when `department` supervises it; PermissionDeniedError otherwise."""
        record = self._enterprise_record(str(uuid_field(enterprise_id, "enterprise_id")))
        if record is None or department not in record.supervisors:
            raise PermissionDeniedError("enterprise_id", f"department {department} does not supervise it")
        return record

    def _danger_list(self, enterprise_id: str) -> DangerList:
        return self.find(list_id(enterprise_id)) or DangerList(enterprise_id)

    def _coverage(self) -> CoverageIndex:
        return self.find(COVERAGE_ID) or CoverageIndex()

    def _holdings(self, enterprise_id: str) -> RiskPointHoldings | None:
        return self.find(holdings_id(enterprise_id))

    def _departments(self) -> DepartmentKinds:
        return self.find(DEPARTMENTS_ID) or DepartmentKinds()
