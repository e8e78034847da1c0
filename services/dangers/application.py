"""The dangers service's application: hidden dangers, deadlines, enforcement, inspectors' tokens."""

from __future__ import annotations

from typing import Any

from services.backbone.conflicts import retried
from services.backbone.errors import PermissionDeniedError, ValidationError
from services.dangers import credentials
from services.dangers.cases import EnforcementCase
from services.dangers.credentials import InspectorCredential, credential_id
from services.dangers.deadlines import DeadlineIndex, Deadlines
from services.dangers.domain import HiddenDanger
from services.dangers.enforcement import Enforcement
from services.dangers.orders import Orders
from services.dangers.records import CoverageIndex, DangerList, DepartmentKinds, EnterpriseRecord
from services.dangers.workflow import Workflow


class DangersApplication(Workflow, Deadlines, Enforcement, Orders):
    """The workflow (workflow.py), the timer (deadlines.py) and the process manager (enforcement.py)
    on the dangers service's own store."""

    service = "dangers"
    snapshotting_intervals = {
        HiddenDanger: 50,
        EnforcementCase: 50,
        EnterpriseRecord: 50,
        DangerList: 100,
        CoverageIndex: 100,
        DeadlineIndex: 100,
        DepartmentKinds: 50,
    }

    # -- inspectors' tokens, one per department -------------------------------------------------
    @retried
    def issue_inspector_token(self, department: str) -> dict[str, Any]:
        """A new token for the department's inspectors (returned once; any earlier one stops working)."""
        code = str(department or "").strip()
        if not code:
            raise ValidationError("department", "is required")
        token = credentials.new_token()
        existing = self.find(credential_id(code))
        if isinstance(existing, InspectorCredential):
            existing.reissue(credentials.token_hash(token))
            self.save(existing)
        else:
            self.save(InspectorCredential(department=code, token_hash=credentials.token_hash(token)))
        return {"department": code, "token": token}

    def authenticate_inspector(self, department: str, token: str) -> str:
        """The department a token belongs to; PermissionDeniedError otherwise."""
        found = self.find(credential_id(str(department)))
        if not isinstance(found, InspectorCredential) or not credentials.matches(token, found.token_hash):
            raise PermissionDeniedError("x-hub-department-token", "unknown department or wrong token")
        return found.department
