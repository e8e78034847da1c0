"""DangerService: an enterprise's hidden dangers through their workflow; and how the gateway serves
both danger APIs (this one for enterprises, InspectionService for departments)."""

from __future__ import annotations

from typing import Any

import grpc
from hub.v1 import danger_pb2 as pb
from hub.v1 import danger_pb2_grpc

from gateway import danger_messages as messages
from gateway.auth import Authenticator
from gateway.inspections import InspectionServicer, riskpoints_written
from gateway.inspector_auth import DepartmentAuthenticator
from services.backbone.edge.calls import fields_of, grpc_method
from services.backbone.rpc_client import Services

SERVICE_NAMES = ("hub.v1.DangerService", "hub.v1.InspectionService")


def register(server: grpc.Server, services: Services, auth: Authenticator) -> tuple[str, ...]:
    """Adds both danger APIs to the gateway's server; returns their full names (health, reflection)."""
    danger_pb2_grpc.add_DangerServiceServicer_to_server(DangerServicer(services, auth), server)
    inspectors = DepartmentAuthenticator(services, "inspections")
    danger_pb2_grpc.add_InspectionServiceServicer_to_server(InspectionServicer(services, inspectors), server)
    return SERVICE_NAMES


class DangerServicer(danger_pb2_grpc.DangerServiceServicer):
    def __init__(self, services: Services, auth: Authenticator) -> None:
        self.services, self.auth = services, auth

    def _call(self, method: str, *args: Any) -> Any:
        return self.services.call("dangers", method, *args)

    @grpc_method
    def ReportDanger(  # noqa: N802 - gRPC's method names
        self, request: pb.ReportDangerRequest, context: grpc.ServicerContext
    ) -> pb.ReportDangerResponse:
        caller = self.auth.own(self.auth.enterprise(context), request.enterprise_id)
        fields = {
            "risk_point_id": request.risk_point_id,
            "inspection_type": messages.name_of(messages.INSPECTION_TYPES, request.inspection_type),
            "description": request.description,
            "evidence": messages.evidence_dicts(request.evidence),
            "found_on": request.found_on,
            "reported_by": request.reported_by,
        }
        # how far the caller's writes reached in riskpoints (a risk point retired a moment ago)
        after = riskpoints_written(self.services, caller)
        answer = self._call("report", caller, fields, request.idempotency_key, after)
        return pb.ReportDangerResponse(danger=messages.danger_message(answer), created=answer["created"])

    @grpc_method
    def AssessDanger(  # noqa: N802
        self, request: pb.AssessDangerRequest, context: grpc.ServicerContext
    ) -> pb.AssessDangerResponse:
        caller = self.auth.enterprise(context)
        fields = {
            "grade": messages.name_of(messages.GRADES, request.grade),
            "removable_now": request.removable_now,
            "assessed_by": request.assessed_by,
        }
        answer = self._call("assess", caller, request.danger_id, fields)
        return pb.AssessDangerResponse(danger=messages.danger_message(answer))

    @grpc_method
    def PlanRectification(  # noqa: N802
        self, request: pb.PlanRectificationRequest, context: grpc.ServicerContext
    ) -> pb.PlanRectificationResponse:
        caller = self.auth.enterprise(context)
        with fields_of(request.plan, "plan"):
            answer = self._call("plan", caller, request.danger_id, messages.plan_dict(request.plan))
        return pb.PlanRectificationResponse(danger=messages.danger_message(answer))

    @grpc_method
    def SubmitRectification(  # noqa: N802
        self, request: pb.SubmitRectificationRequest, context: grpc.ServicerContext
    ) -> pb.SubmitRectificationResponse:
        caller = self.auth.enterprise(context)
        done = request.rectification
        fields = {
            "rectified_by": done.rectified_by,
            "completed_on": done.completed_on,
            "summary": done.summary,
            "evidence": messages.evidence_dicts(done.evidence),
        }
        with fields_of(request.rectification, "rectification"):
            answer = self._call("submit", caller, request.danger_id, fields)
        return pb.SubmitRectificationResponse(danger=messages.danger_message(answer))

    @grpc_method
    def ListDangers(  # noqa: N802
        self, request: pb.ListDangersRequest, context: grpc.ServicerContext
    ) -> pb.ListDangersResponse:
        caller = self.auth.own(self.auth.enterprise(context), request.enterprise_id)
        answer = self._call("list", caller, messages.name_of(messages.STATES, request.state))
        return pb.ListDangersResponse(dangers=[messages.danger_message(d) for d in answer])

    @grpc_method
    def GetDanger(  # noqa: N802
        self, request: pb.GetDangerRequest, context: grpc.ServicerContext
    ) -> pb.GetDangerResponse:
        caller = self.auth.enterprise(context)
        return pb.GetDangerResponse(
            danger=messages.danger_message(self._call("get", caller, request.danger_id))
        )
