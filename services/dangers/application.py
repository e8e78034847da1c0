"""The dangers service's application: hidden dangers, deadlines, enforcement, inspectors' tokens."""

from __future__ import annotations

from typing import Any, ClassVar

from services.backbone.conflicts import retried
from services.backbone.errors import PermissionDeniedError, ValidationError
from services.dangers import credentials
from services.dangers.cases import EnforcementCase
from services.dangers.credentials import InspectorCredential, credential_id
from services.dangers.deadlines import DeadlineIndex, Deadlines
from services.dangers.domain import HiddenDanger
from services.dangers.enforcement import Enforcement
from services.dangers.holdings import RiskPointHoldings
from services.dangers.orders import Orders
from services.dangers.records import CoverageIndex, DangerList, DepartmentKinds, EnterpriseRecord
from services.dangers.workflow import Workflow


class DangersApplication(Workflow, Deadlines, Enforcement, Orders):
    """The workflow (workflow.py), the timer (deadlines.py) and the process manager (enforcement.py)
    on the dangers service's own store."""

    service = "dangers"
    # A report reads its enterprise's danger list and holdings, both growing with it: kept between
    # calls and caught up on read (services/backbone/store.py), a report decodes the events since its
    # last read (one or two), not those since the last snapshot (13 a report, 400 reports on one
    # enterprise: 14% of the service's CPU).
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "4096"}
    get_many_kept = True
    snapshotting_intervals = {
        HiddenDanger: 50,
        EnforcementCase: 50,
        EnterpriseRecord: 50,
        # one event per danger the enterprise reports, and read by each report: a load replays half an
        # interval on average (the interval grows with the list: services/backbone/store.py)
        DangerList: 20,
        CoverageIndex: 100,
        DeadlineIndex: 100,
        DepartmentKinds: 50,
        # one event per page of the riskpoints stream that names the enterprise; read by each report
        RiskPointHoldings: 20,
    }

    # -- departments' tokens, one per department and scope ---------------------------------------
    @retried
    def issue_inspector_token(self, department: str, scope: str = "") -> dict[str, Any]:
        """A new token for one of the department's roles (returned once; the role's earlier token stops
        working, the other roles' tokens are untouched). No scope: one token for every role that has
        none of its own."""
        code = str(department or "").strip()
        if not code:
            raise ValidationError("department", "is required")
        if scope and scope not in credentials.SCOPES:
            raise ValidationError("scope", f"must be one of {', '.join(credentials.SCOPES)}")
        token = credentials.new_token()
        existing = self.find(credential_id(code, scope))
        if isinstance(existing, InspectorCredential):
            existing.reissue(credentials.token_hash(token))
            self.save(existing)
        else:
            self.save(
                InspectorCredential(department=code, token_hash=credentials.token_hash(token), scope=scope)
            )
        return {"department": code, "scope": scope, "token": token}

    def authenticate_inspector(self, department: str, token: str, scope: str = "") -> str:
        """The department a token belongs to, for this role; PermissionDeniedError otherwise. A role with
        a token of its own takes only that one; a role without, the department's unscoped token."""
        code = str(department)
        found = self.find(credential_id(code, scope)) if scope else None
        if not isinstance(found, InspectorCredential):
            found = self.find(credential_id(code))
        if not isinstance(found, InspectorCredential) or not credentials.matches(token, found.token_hash):
            raise PermissionDeniedError("x-hub-department-token", "unknown department or wrong token")
        return found.department
