"""The dangers nameko service: parse, call the application, return primitives; and the deadline timer."""

from __future__ import annotations

import builtins
from datetime import UTC, datetime
from typing import Any

import structlog
from nameko.rpc import RpcProxy

from services.backbone.errors import NotFoundError, PermissionDeniedError
from services.backbone.nameko_store import EventStore, settings_timer
from services.backbone.rpc import rpc
from services.dangers import clock
from services.dangers.application import DangersApplication

log = structlog.get_logger(__name__)
PAGE, MAX_PAGES = 200, 50


class DangersService:
    name = "dangers"

    app: DangersApplication = EventStore(DangersApplication)
    registry = RpcProxy("registry")
    riskpoints = RpcProxy("riskpoints")

    def _owners(self, enterprise_id: str, risk_point_ids: builtins.list[str]) -> dict[str, str]:
        """Where these risk points stand for the enterprise, read through at the riskpoints service (a
        risk point identified a moment ago counts at once): for those the dangers service's own view
        does not hold (services/dangers/holdings.py)."""
        return dict(self.riskpoints.owners_of(enterprise_id, risk_point_ids))

    # -- the timer: real time in production; tests call check_deadlines with a time they choose ----
    @settings_timer("dangers_timer_seconds")
    def tick(self) -> None:
        try:
            self.check_deadlines(clock.iso(datetime.now(UTC)))
        except Exception:  # noqa: BLE001 - the next tick tries again
            log.exception("deadline_check_failed")

    @rpc
    def check_deadlines(self, now: str) -> dict[str, builtins.list[str]]:
        moment = clock.instant(now)
        answer: dict[str, builtins.list[str]] = {
            "overdue": [],
            "escalated_to_authorities": [],
            "set_aside": [],
        }
        for _ in range(MAX_PAGES):  # a page at a time, so one transaction stays small
            page = self.app.check_deadlines(moment, PAGE)
            for key in answer:
                answer[key].extend(page[key])
            if len(page["checked"]) < PAGE:
                break
        if any(answer.values()):
            log.info("deadlines_checked", now=now, **{k: len(v) for k, v in answer.items()})
        return answer

    # -- the enterprise ---------------------------------------------------------------------------
    @rpc
    def report(
        self,
        enterprise_id: str,
        fields: dict[str, Any],
        idempotency_key: str = "",
        after: dict[str, int] | None = None,
    ) -> dict[str, Any]:
        """`after`: how far the caller's writes reached (consistency positions by service)."""
        answer = self.app.report(enterprise_id, fields, self._owners, idempotency_key, _riskpoints(after))
        log.info("danger_reported", danger_id=answer["danger_id"], created=answer["created"])
        return answer

    @rpc
    def assess(self, enterprise_id: str, danger_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        return self.app.assess(enterprise_id, danger_id, fields)

    @rpc
    def plan(self, enterprise_id: str, danger_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        return self.app.plan(enterprise_id, danger_id, fields, datetime.now(UTC))

    @rpc
    def submit(self, enterprise_id: str, danger_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        return self.app.submit(enterprise_id, danger_id, fields)

    @rpc
    def get(self, enterprise_id: str, danger_id: str) -> dict[str, Any]:
        return self.app.get(enterprise_id, danger_id)

    @rpc
    def list(self, enterprise_id: str, state: str = "") -> builtins.list[dict[str, Any]]:
        return self.app.list_dangers(enterprise_id, state)

    # -- supervising departments ------------------------------------------------------------------
    @rpc
    def issue_inspector_token(self, department: str, scope: str = "") -> dict[str, Any]:
        self.registry.get_department(department)  # NotFoundError for a department nobody registered
        answer = self.app.issue_inspector_token(department, scope)
        log.info("department_token_issued", department=department, scope=scope or "all")
        return answer

    @rpc
    def authenticate_inspector(self, department: str, token: str, scope: str = "") -> str:
        code = self.app.authenticate_inspector(department, token, scope)
        try:
            self.registry.get_department(code)  # a department removed since keeps no access
        except NotFoundError:
            raise PermissionDeniedError("x-hub-department", "this department has been removed") from None
        return code

    @rpc
    def record_inspection(
        self, department: str, fields: dict[str, Any], after: dict[str, int] | None = None
    ) -> dict[str, Any]:
        answer = self.app.record_inspection(department, fields, self._owners, _riskpoints(after))
        log.info("inspection_recorded", department=department, cases=len(answer["case_ids"]))
        return answer

    @rpc
    def verify(self, department: str, danger_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        return self.app.verify(department, danger_id, fields)

    @rpc
    def send_back(self, department: str, danger_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        return self.app.send_back(department, danger_id, fields)

    @rpc
    def close_danger(self, department: str, danger_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        return self.app.close_danger(department, danger_id, fields)

    @rpc
    def case_step(self, department: str, step: str, target: str, fields: dict[str, Any]) -> dict[str, Any]:
        """open_case (target: a danger id); impose_penalty, record_exposure, order_suspension and
        order_closure (target: a case id)."""
        if step not in STEPS:
            raise ValueError(f"unknown case step {step!r}")
        answer: dict[str, Any] = getattr(self.app, step)(department, target, fields)
        log.info("case_step", step=step, case_id=answer["case_id"], state=answer["state"])
        return answer

    @rpc
    def get_case(self, department: str, case_id: str) -> dict[str, Any]:
        return self.app.get_case(department, case_id)

    @rpc
    def list_uninspected(self, department: str, town: str = "") -> builtins.list[dict[str, Any]]:
        return self.app.list_uninspected(department, town)


def _riskpoints(after: dict[str, int] | None) -> int:
    """How far the caller's writes reached in riskpoints (0: not known)."""
    try:
        return max(int((after or {}).get("riskpoints", 0)), 0)
    except (TypeError, ValueError, AttributeError):
        return 0


STEPS = ("open_case", "impose_penalty", "record_exposure", "order_suspension", "order_closure")
