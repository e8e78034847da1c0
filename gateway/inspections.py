"""InspectionService: a supervising department's inspections, verifications and enforcement steps."""

from __future__ import annotations

from typing import Any

import grpc
from hub.v1 import danger_pb2 as pb
from hub.v1 import danger_pb2_grpc

from gateway import danger_messages as messages
from gateway.inspector_auth import DepartmentAuthenticator
from services.backbone.edge.calls import grpc_method
from services.backbone.rpc_client import Services


def riskpoints_written(services: Services, enterprise: str) -> dict[str, int]:
    """How far the enterprise's writes through this gateway reached in riskpoints: the dangers service
    holds risk points to it when it checks that a danger names one of the enterprise's."""
    written = services.written.of(enterprise).get("riskpoints", 0)
    return {"riskpoints": written} if written else {}


class InspectionServicer(danger_pb2_grpc.InspectionServiceServicer):
    def __init__(self, services: Services, auth: DepartmentAuthenticator) -> None:
        self.services, self.auth = services, auth

    def _call(self, context: grpc.ServicerContext, method: str, *args: Any) -> Any:
        return self.services.call("dangers", method, self.auth.department(context), *args)

    def _step(self, context: grpc.ServicerContext, step: str, target: str, fields: dict[str, Any]) -> Any:
        return messages.case_message(self._call(context, "case_step", step, target, fields))

    @grpc_method
    def RecordInspection(  # noqa: N802 - gRPC's method names
        self, request: pb.RecordInspectionRequest, context: grpc.ServicerContext
    ) -> pb.RecordInspectionResponse:
        fields = {
            "enterprise_id": request.enterprise_id,
            "document_no": request.document_no,
            "inspector_name": request.inspector_name,
            "inspected_on": request.inspected_on,
            "remarks": request.remarks,
            "findings": [
                {
                    "risk_point_id": f.risk_point_id,
                    "description": f.description,
                    "evidence": messages.evidence_dicts(f.evidence),
                    "grade": messages.name_of(messages.GRADES, f.grade),
                    "removable_now": f.removable_now,
                }
                for f in request.findings
            ],
            "reinspections": [
                {"danger_id": r.danger_id, "still_major": r.still_major} for r in request.reinspections
            ],
        }
        # how far the inspected enterprise's writes through this gateway reached in riskpoints
        after = riskpoints_written(self.services, request.enterprise_id)
        answer = self._call(context, "record_inspection", fields, after)
        return pb.RecordInspectionResponse(**answer)

    def _decision(
        self, context: grpc.ServicerContext, method: str, danger_id: str, **fields: str
    ) -> pb.Danger:
        return messages.danger_message(self._call(context, method, danger_id, fields))

    @grpc_method
    def VerifyRectification(  # noqa: N802
        self, request: pb.VerifyRectificationRequest, context: grpc.ServicerContext
    ) -> pb.VerifyRectificationResponse:
        danger = self._decision(
            context,
            "verify",
            request.danger_id,
            by=request.verifier,
            on=request.verified_on,
            remarks=request.remarks,
        )
        return pb.VerifyRectificationResponse(danger=danger)

    @grpc_method
    def SendBack(self, request: pb.SendBackRequest, context: grpc.ServicerContext) -> pb.SendBackResponse:  # noqa: N802
        danger = self._decision(
            context,
            "send_back",
            request.danger_id,
            by=request.inspector_name,
            on=request.sent_back_on,
            remarks=request.reason,
        )
        return pb.SendBackResponse(danger=danger)

    @grpc_method
    def CloseDanger(  # noqa: N802
        self, request: pb.CloseDangerRequest, context: grpc.ServicerContext
    ) -> pb.CloseDangerResponse:
        danger = self._decision(
            context,
            "close_danger",
            request.danger_id,
            by=request.inspector_name,
            on=request.closed_on,
            remarks=request.remarks,
        )
        return pb.CloseDangerResponse(danger=danger)

    @grpc_method
    def OpenCase(self, request: pb.OpenCaseRequest, context: grpc.ServicerContext) -> pb.OpenCaseResponse:  # noqa: N802
        fields = {
            "document_no": request.document_no,
            "opened_on": request.opened_on,
            "reason": request.reason,
        }
        return pb.OpenCaseResponse(
            enforcement_case=self._step(context, "open_case", request.danger_id, fields)
        )

    @grpc_method
    def ImposePenalty(  # noqa: N802
        self, request: pb.ImposePenaltyRequest, context: grpc.ServicerContext
    ) -> pb.ImposePenaltyResponse:
        fields = {
            "violation": request.violation,
            "amount": request.amount,
            "document_no": request.document_no,
            "imposed_on": request.imposed_on,
        }
        case = self._step(context, "impose_penalty", request.case_id, fields)
        return pb.ImposePenaltyResponse(enforcement_case=case)

    @grpc_method
    def RecordExposure(  # noqa: N802
        self, request: pb.RecordExposureRequest, context: grpc.ServicerContext
    ) -> pb.RecordExposureResponse:
        fields = {
            "medium": request.medium,
            "document_no": request.document_no,
            "exposed_on": request.exposed_on,
        }
        case = self._step(context, "record_exposure", request.case_id, fields)
        return pb.RecordExposureResponse(enforcement_case=case)

    @grpc_method
    def OrderSuspension(  # noqa: N802
        self, request: pb.OrderSuspensionRequest, context: grpc.ServicerContext
    ) -> pb.OrderSuspensionResponse:
        fields = {
            "reason": request.reason,
            "document_no": request.document_no,
            "ordered_on": request.ordered_on,
        }
        case = self._step(context, "order_suspension", request.case_id, fields)
        return pb.OrderSuspensionResponse(enforcement_case=case)

    @grpc_method
    def OrderClosure(  # noqa: N802
        self, request: pb.OrderClosureRequest, context: grpc.ServicerContext
    ) -> pb.OrderClosureResponse:
        fields = {
            "reason": request.reason,
            "document_no": request.document_no,
            "ordered_on": request.ordered_on,
        }
        case = self._step(context, "order_closure", request.case_id, fields)
        return pb.OrderClosureResponse(enforcement_case=case)

    @grpc_method
    def GetCase(self, request: pb.GetCaseRequest, context: grpc.ServicerContext) -> pb.GetCaseResponse:  # noqa: N802
        case = messages.case_message(self._call(context, "get_case", request.case_id))
        return pb.GetCaseResponse(enforcement_case=case)

    @grpc_method
    def ListUninspectedEnterprises(  # noqa: N802
        self, request: pb.ListUninspectedEnterprisesRequest, context: grpc.ServicerContext
    ) -> pb.ListUninspectedEnterprisesResponse:
        found = self._call(context, "list_uninspected", request.town)
        return pb.ListUninspectedEnterprisesResponse(
            enterprises=[pb.UninspectedEnterprise(**e) for e in found]
        )
