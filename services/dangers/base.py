"""What the dangers service's use cases share: loading aggregates, ownership, retries on conflict."""

from __future__ import annotations

import functools
import os
import random
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError

from services.backbone.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from services.backbone.store import HubApplication
from services.dangers.cases import EnforcementCase
from services.dangers.domain import HiddenDanger
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

F = TypeVar("F", bound=Callable[..., Any])
ATTEMPTS = 25


def retried(fn: F) -> F:
    """Runs a command again, afresh, when its save lost a race (shared indexes do collide)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(ATTEMPTS):
            try:
                return fn(*args, **kwargs)
            except RecordConflictError:
                time.sleep(random.uniform(0, min(0.002 * 2**attempt, 0.25)))  # noqa: S311 - jitter
        raise ConflictError(
            "(aggregate)", f"still conflicting with concurrent changes after {ATTEMPTS} tries"
        )

    return wrapper  # type: ignore[return-value]


def parse_id(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationError(field, "must be a UUID") from None


class DangersBase(HubApplication):
    """The dangers service's store and the helpers its use cases share."""

    @property
    def escalation_delay(self) -> timedelta:
        """How long after a danger fell overdue the town office and the departments hear of it."""
        days = self.env.get("HUB_ESCALATION_DELAY_DAYS") or os.environ.get("HUB_ESCALATION_DELAY_DAYS", "3")
        return timedelta(days=float(days))

    def _find(self, aggregate_id: uuid.UUID) -> Any | None:
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    def _danger(self, danger_id: str) -> HiddenDanger:
        found = self._find(parse_id(danger_id, "danger_id"))
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
        found = self._find(parse_id(case_id, "case_id"))
        if not isinstance(found, EnforcementCase):
            raise NotFoundError("case_id", f"no enforcement case {case_id}")
        return found

    def _enterprise_record(self, enterprise_id: str) -> EnterpriseRecord | None:
        return self._find(record_id(enterprise_id))

    def _supervised(self, department: str, enterprise_id: str) -> EnterpriseRecord:
        """The enterprise's record, when `department` supervises it; PermissionDeniedError otherwise."""
        record = self._enterprise_record(str(parse_id(enterprise_id, "enterprise_id")))
        if record is None or department not in record.supervisors:
            raise PermissionDeniedError("enterprise_id", f"department {department} does not supervise it")
        return record

    def _danger_list(self, enterprise_id: str) -> DangerList:
        return self._find(list_id(enterprise_id)) or DangerList(enterprise_id)

    def _coverage(self) -> CoverageIndex:
        return self._find(COVERAGE_ID) or CoverageIndex()

    def _departments(self) -> DepartmentKinds:
        return self._find(DEPARTMENTS_ID) or DepartmentKinds()
