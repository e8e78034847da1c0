"""Hidden dangers (隐患): found, graded, rectified on a deadline, verified by another person, closed."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import HubAggregate
from services.backbone.errors import PermissionDeniedError, TransitionError
from services.dangers import clock
from services.dangers.vocabulary import ALLOWED, Grade, State


class HiddenDanger(HubAggregate):
    """A hidden danger on one risk point of one enterprise. Every event names the enterprise."""

    @event("Reported")
    def __init__(self, enterprise_id: str, risk_point_id: str, source: str, finding: dict[str, Any]) -> None:
        self.enterprise_id, self.risk_point_id, self.source = enterprise_id, risk_point_id, source
        self.finding = finding  # description, evidence, found_on, inspection type or inspector + department
        self.state, self.grade, self.removable_now = State.REPORTED, "", True
        self.plan: dict[str, Any] = {}
        self.submission: dict[str, Any] = {}
        self.decisions: list[dict[str, Any]] = []  # verified, sent back, closed: who, when, why
        self.overdue_at, self.escalation = "", ""

    @classmethod
    def found(cls, danger_id: uuid.UUID, **fields: Any) -> HiddenDanger:
        """A danger with an id chosen by the caller (derived, so a retried report cannot duplicate it);
        `fields` are those of __init__."""
        return cls._create(cls.Reported, id=danger_id, **fields)  # type: ignore[attr-defined]

    def allow(self, command: str) -> None:
        """TransitionError naming the current state, unless `command` may run now."""
        allowed, action = ALLOWED[command]
        if self.state not in allowed:
            raise TransitionError(
                "state", f"cannot {action} a hidden danger that is {self.state}", self.state
            )

    @property
    def rectifiers(self) -> set[str]:
        return {n for n in (self.plan.get("responsible_person"), self.submission.get("rectified_by")) if n}

    def assess(self, grade: Grade, removable_now: bool, assessed_by: str) -> None:
        self.allow("assess")
        # A major danger is by definition not removable at once (it needs time and a plan).
        removable = removable_now and grade == Grade.GENERAL
        self._assessed(
            enterprise_id=self.enterprise_id,
            grade=str(grade),
            removable_now=removable,
            assessed_by=assessed_by,
        )

    @event("Assessed")
    def _assessed(self, enterprise_id: str, grade: str, removable_now: bool, assessed_by: str) -> None:
        self.state, self.grade, self.removable_now = State.ASSESSED, grade, removable_now

    def plan_rectification(self, plan: dict[str, Any]) -> None:
        self.allow("plan")
        self._planned(enterprise_id=self.enterprise_id, plan=plan)

    @event("RectificationPlanned")
    def _planned(self, enterprise_id: str, plan: dict[str, Any]) -> None:
        self.state, self.plan = State.RECTIFYING, plan

    def submit(self, submission: dict[str, Any]) -> None:
        self.allow("submit")
        self._submitted(enterprise_id=self.enterprise_id, submission=submission)

    @event("RectificationSubmitted")
    def _submitted(self, enterprise_id: str, submission: dict[str, Any]) -> None:
        self.state, self.submission = State.SUBMITTED, submission

    def verify(self, decision: dict[str, Any]) -> None:
        self.allow("verify")
        if decision["by"] in self.rectifiers:
            raise PermissionDeniedError(
                "verifier",
                "a rectification is verified by someone other than the rectifier (整改人不得自行验收)",
            )
        self._verified(enterprise_id=self.enterprise_id, decision=decision)

    @event("Verified")
    def _verified(self, enterprise_id: str, decision: dict[str, Any]) -> None:
        self.state, self.decisions = State.VERIFIED, [*self.decisions, {"kind": "verified", **decision}]

    def send_back(self, decision: dict[str, Any]) -> None:
        self.allow("send_back")
        self._sent_back(enterprise_id=self.enterprise_id, decision=decision)

    @event("SentBack")
    def _sent_back(self, enterprise_id: str, decision: dict[str, Any]) -> None:
        self.state, self.decisions = State.RECTIFYING, [*self.decisions, {"kind": "sent_back", **decision}]

    def close(self, decision: dict[str, Any]) -> None:
        self.allow("close")
        self._closed(enterprise_id=self.enterprise_id, decision=decision)

    @event("Closed")
    def _closed(self, enterprise_id: str, decision: dict[str, Any]) -> None:
        self.state, self.decisions = State.CLOSED, [*self.decisions, {"kind": "closed", **decision}]

    # -- deadlines (driven by the timer, never by a read) -------------------------------------
    def check_overdue(self, now: datetime) -> bool:
        """Raises Overdue and escalates to the responsible person, once, when the deadline has passed."""
        if self.state != State.RECTIFYING or self.overdue_at or not clock.is_past(self.plan["deadline"], now):
            return False
        deadline = self.plan["deadline"]
        self._overdue(enterprise_id=self.enterprise_id, deadline=deadline, detected_at=clock.iso(now))
        self._escalated_to_responsible(
            enterprise_id=self.enterprise_id,
            deadline=deadline,
            responsible_person=self.plan["responsible_person"],
            responsible_mobile=self.plan["responsible_mobile"],
        )
        return True

    @event("Overdue")
    def _overdue(self, enterprise_id: str, deadline: str, detected_at: str) -> None:
        self.overdue_at = detected_at

    @event("EscalatedToResponsible")
    def _escalated_to_responsible(
        self, enterprise_id: str, deadline: str, responsible_person: str, responsible_mobile: str
    ) -> None:
        self.escalation = "responsible"

    def escalation_due(self, now: datetime, delay: timedelta) -> bool:
        return (
            self.state == State.RECTIFYING
            and self.escalation == "responsible"
            and now >= datetime.fromisoformat(self.overdue_at) + delay
        )

    def escalate_to_authorities(self, now: datetime, town_office: str, departments: list[str]) -> None:
        self._escalated_to_authorities(
            enterprise_id=self.enterprise_id,
            deadline=self.plan["deadline"],
            town_office=town_office,
            departments=departments,
            escalated_at=clock.iso(now),
        )

    @event("EscalatedToAuthorities")
    def _escalated_to_authorities(
        self, enterprise_id: str, deadline: str, town_office: str, departments: list[str], escalated_at: str
    ) -> None:
        self.escalation = "authorities"
