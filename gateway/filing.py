"""FilingService: an enterprise compiles, signs and files its register, and follows the answers."""

from __future__ import annotations

from typing import Any

import grpc
from hub.v1 import filing_pb2 as pb
from hub.v1 import filing_pb2_grpc

from gateway.auth import Authenticator
from services.backbone import consistency
from services.backbone.edge.calls import fields_renamed, grpc_method, metadata
from services.backbone.rpc_client import Services

DELIVERY = {
    "pending": pb.DELIVERY_STATE_PENDING,
    "delivered": pb.DELIVERY_STATE_DELIVERED,
    "acknowledged": pb.DELIVERY_STATE_ACKNOWLEDGED,
    "rejected": pb.DELIVERY_STATE_REJECTED,
    "parked": pb.DELIVERY_STATE_PARKED,
}
STATUS = {
    "compiled": pb.FILING_STATUS_COMPILED,
    "submitted": pb.FILING_STATUS_SUBMITTED,
    "superseded": pb.FILING_STATUS_SUPERSEDED,
}

# filing names each role's signature; the request has a field for each
SIGNATURE_FIELDS = {
    "signatures.legal_representative": "legal_representative_signature",
    "signatures.enterprise_seal": "enterprise_seal_signature",
}


def version_message(summary: dict[str, Any]) -> pb.RegisterVersion:
    return pb.RegisterVersion(
        filing_id=summary["filing_id"],
        enterprise_id=summary["enterprise_id"],
        version=summary["version"],
        status=STATUS.get(summary["status"], pb.FILING_STATUS_UNSPECIFIED),
        document_hash=summary["document_hash"],
        reason=summary["reason"],
        submitted_at=summary["submitted_at"] or "",
        ledger=[
            pb.DepartmentDelivery(
                department_code=code,
                state=DELIVERY.get(state, pb.DELIVERY_STATE_UNSPECIFIED),
                reason=summary["reasons"].get(code, ""),
            )
            for code, state in summary["ledger"].items()
        ],
    )


def _change(item: dict[str, Any]) -> pb.RiskPointChange:
    return pb.RiskPointChange(
        risk_point_id=str(item["id"]),
        name=str(item.get("name") or ""),
        from_level=int(item.get("from") or 0),
        to_level=int(item.get("to") or 0),
        fields=item.get("fields", []),
    )


def _danger(item: dict[str, Any]) -> pb.DangerChange:
    return pb.DangerChange(
        danger_id=str(item["id"]),
        risk_point_id=str(item.get("risk_point_id") or ""),
        grade=str(item.get("grade") or ""),
        description=str(item.get("description") or ""),
    )


class FilingServicer(filing_pb2_grpc.FilingServiceServicer):
    def __init__(self, services: Services, auth: Authenticator) -> None:
        self.services, self.auth = services, auth

    def _own(self, context: grpc.ServicerContext, requested: str) -> str:
        return self.auth.own(self.auth.enterprise(context), requested)

    @grpc_method
    def CompileRegister(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        enterprise = self._own(context, request.enterprise_id)
        # what the caller wrote before (through this gateway, or as the token of another's answer)
        after = consistency.merge(
            self.services.written.of(enterprise),
            consistency.decode(metadata(context).get(consistency.TOKEN_HEADER, "")),
        )
        compiled = self.services.call("filing", "compile", enterprise, after)
        return pb.CompileRegisterResponse(
            version=version_message(compiled),
            canonical_document=compiled["canonical"].encode("utf-8"),
            created=compiled["created"],
        )

    @grpc_method
    def SubmitRegister(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        signatures = {
            "legal_representative": request.legal_representative_signature,
            "enterprise_seal": request.enterprise_seal_signature,
        }
        enterprise = self._own(context, request.enterprise_id)
        with fields_renamed(SIGNATURE_FIELDS):
            summary = self.services.call("filing", "submit", enterprise, request.version, signatures)
        return pb.SubmitRegisterResponse(version=version_message(summary))

    @grpc_method
    def GetFilingStatus(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        enterprise = self._own(context, request.enterprise_id)
        summary = self.services.call("filing", "status", enterprise, request.version)
        return pb.GetFilingStatusResponse(version=version_message(summary))

    @grpc_method
    def ListRegisterVersions(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        versions = self.services.call("filing", "versions", self._own(context, request.enterprise_id))
        return pb.ListRegisterVersionsResponse(versions=[version_message(v) for v in versions])

    @grpc_method
    def GetRegisterVersion(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        enterprise = self._own(context, request.enterprise_id)
        found = self.services.call("filing", "get_version", enterprise, request.version)
        return pb.GetRegisterVersionResponse(
            version=version_message(found), canonical_document=found["canonical"].encode("utf-8")
        )

    @grpc_method
    def DiffRegisterVersions(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        enterprise = self._own(context, request.enterprise_id)
        d = self.services.call("filing", "diff", enterprise, request.from_version, request.to_version)
        return pb.DiffRegisterVersionsResponse(
            risk_points_added=[_change(i) for i in d["risk_points_added"]],
            risk_points_removed=[_change(i) for i in d["risk_points_removed"]],
            risk_points_regraded=[_change(i) for i in d["risk_points_regraded"]],
            risk_points_edited=[_change(i) for i in d["risk_points_edited"]],
            dangers_opened=[_danger(i) for i in d["dangers_opened"]],
            dangers_closed=[_danger(i) for i in d["dangers_closed"]],
            departments_added=d["departments_added"],
            departments_removed=d["departments_removed"],
            enterprise_fields_changed=d["enterprise_changed"],
        )
