"""The enforcement case (六个必须) opened on a major hidden danger found by a government inspection.

立案 → 顶格处罚 → 曝光 → (re-inspection still major) → 停产整顿 → (re-inspection still failing) → 关闭取缔.
Each step records its date, document number (文书编号) and issuing authority, and no step is skipped.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import HubAggregate
from services.backbone.errors import TransitionError, ValidationError
from services.dangers.penalties import Violation, top_of_range

CASES = uuid.UUID("8a4f2c61-0d3e-4b7a-9c15-6e2d7f4a9b30")


def case_id(danger_id: str | uuid.UUID) -> uuid.UUID:
    """One case per hidden danger: opening it twice finds the same id."""
    return uuid.uuid5(CASES, str(danger_id))


class CaseState(StrEnum):
    OPENED = "opened"  # 立案
    PENALISED = "penalised"  # 顶格处罚
    EXPOSED = "exposed"  # 曝光
    SUSPENDED = "suspended"  # 停产整顿
    CLOSED = "closed"  # 关闭取缔
    CONCLUDED = "concluded"  # a re-inspection found the danger removed


class EnforcementCase(HubAggregate):
    """The enforcement chain on one danger of one enterprise; every event names the enterprise."""

    @staticmethod
    def create_id(danger_id: str, **_: Any) -> uuid.UUID:
        return case_id(danger_id)

    @event("CaseOpened")
    def __init__(self, enterprise_id: str, danger_id: str, reason: str, step: dict[str, str]) -> None:
        self.enterprise_id, self.danger_id, self.reason = enterprise_id, danger_id, reason
        self.state = CaseState.OPENED
        self.steps: list[dict[str, Any]] = [{"kind": "opened", **step}]
        self.still_major = False  # the last re-inspection since the last order found the danger still major

    def _require(self, allowed: set[CaseState], action: str) -> None:
        if self.state not in allowed:
            raise TransitionError("state", f"cannot {action} in a case that is {self.state}", self.state)

    def _in_order(self, step: dict[str, str], field: str) -> None:
        last = self.steps[-1]["date"]
        if step["date"] < last:
            raise ValidationError(field, f"must not be before the case's previous step ({last})")

    def impose_penalty(
        self, violations: dict[str, Violation], code: str, amount: int, step: dict[str, str]
    ) -> None:
        """顶格处罚: the amount must be the top of the violation's legal range."""
        self._require({CaseState.OPENED}, "impose the penalty")
        self._in_order(step, "imposed_on")
        violation = top_of_range(violations, code, amount)
        penalty = {"violation": violation.code, "legal_basis": violation.legal_basis, "amount": amount}
        self._penalty_imposed(enterprise_id=self.enterprise_id, penalty=penalty, step=step)

    @event("PenaltyImposed")
    def _penalty_imposed(self, enterprise_id: str, penalty: dict[str, Any], step: dict[str, str]) -> None:
        self.state = CaseState.PENALISED
        self.steps = [*self.steps, {"kind": "penalty", **step, **penalty}]

    def record_exposure(self, medium: str, step: dict[str, str]) -> None:
        self._require({CaseState.PENALISED}, "record the public exposure (曝光)")
        self._in_order(step, "exposed_on")
        self._exposure_recorded(enterprise_id=self.enterprise_id, medium=medium, step=step)

    @event("ExposureRecorded")
    def _exposure_recorded(self, enterprise_id: str, medium: str, step: dict[str, str]) -> None:
        self.state = CaseState.EXPOSED
        self.steps = [*self.steps, {"kind": "exposure", "medium": medium, **step}]

    def reinspect(self, inspection_id: str, still_major: bool, step: dict[str, str]) -> None:
        self._require({CaseState.EXPOSED, CaseState.SUSPENDED}, "record a re-inspection")
        self._in_order(step, "inspected_on")
        self._reinspected(
            enterprise_id=self.enterprise_id, inspection_id=inspection_id, still_major=still_major, step=step
        )

    @event("Reinspected")
    def _reinspected(
        self, enterprise_id: str, inspection_id: str, still_major: bool, step: dict[str, str]
    ) -> None:
        self.still_major = still_major
        self.state = self.state if still_major else CaseState.CONCLUDED
        self.steps = [*self.steps, {"kind": "reinspection", "still_major": still_major, **step}]

    def order_suspension(self, reason: str, step: dict[str, str]) -> None:
        self._require({CaseState.EXPOSED}, "order production suspended (停产整顿)")
        if not self.still_major:
            raise TransitionError(
                "state",
                "停产整顿 is ordered only after a re-inspection still finds the danger major",
                self.state,
            )
        self._in_order(step, "ordered_on")
        self._suspension_ordered(enterprise_id=self.enterprise_id, reason=reason, **_order(step))

    @event("SuspensionOrdered")
    def _suspension_ordered(
        self, enterprise_id: str, reason: str, document_no: str, authority: str, ordered_on: str
    ) -> None:
        self.state, self.still_major = CaseState.SUSPENDED, False
        self.steps = [
            *self.steps,
            {"kind": "suspension", "reason": reason, **_step(document_no, authority, ordered_on)},
        ]

    def order_closure(self, reason: str, step: dict[str, str]) -> None:
        self._require({CaseState.SUSPENDED}, "order the enterprise closed (关闭取缔)")
        if not self.still_major:
            raise TransitionError(
                "state",
                "关闭取缔 is ordered only after a re-inspection during 停产整顿 still fails",
                self.state,
            )
        self._in_order(step, "ordered_on")
        self._closure_ordered(enterprise_id=self.enterprise_id, reason=reason, **_order(step))

    @event("ClosureOrdered")
    def _closure_ordered(
        self, enterprise_id: str, reason: str, document_no: str, authority: str, ordered_on: str
    ) -> None:
        self.state = CaseState.CLOSED
        self.steps = [
            *self.steps,
            {"kind": "closure", "reason": reason, **_step(document_no, authority, ordered_on)},
        ]


def _order(step: dict[str, str]) -> dict[str, str]:
    """An order's fields as the registry's enterprise lifecycle takes them."""
    return {"document_no": step["document_no"], "authority": step["authority"], "ordered_on": step["date"]}


def _step(document_no: str, authority: str, on: str) -> dict[str, str]:
    return {"document_no": document_no, "authority": authority, "date": on}
