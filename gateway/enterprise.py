"""EnterpriseService: the ERP's view of its own enterprise."""

from __future__ import annotations

from typing import Any

import grpc
from hub.v1 import enterprise_pb2 as pb
from hub.v1 import enterprise_pb2_grpc

from gateway.auth import Authenticator
from services.backbone.edge.calls import fields_of, grpc_method
from services.backbone.errors import ValidationError
from services.backbone.rpc_client import Services
from services.kernel.fields import PROFILE_WITH_CODE

ROLES = {
    pb.SIGNING_ROLE_LEGAL_REPRESENTATIVE: "legal_representative",
    pb.SIGNING_ROLE_ENTERPRISE_SEAL: "enterprise_seal",
}
STATUS = {
    "operating": pb.ENTERPRISE_STATUS_OPERATING,
    "suspended": pb.ENTERPRISE_STATUS_SUSPENDED,
    "closed": pb.ENTERPRISE_STATUS_CLOSED,
}


def profile_dict(profile: pb.EnterpriseProfile) -> dict[str, Any]:
    fields: dict[str, Any] = {name: getattr(profile, name) for name in PROFILE_WITH_CODE}
    fields["contacts"] = [{"name": c.name, "role": c.role, "mobile": c.mobile} for c in profile.contacts]
    return fields


def enterprise_message(data: dict[str, Any]) -> pb.Enterprise:
    return pb.Enterprise(
        enterprise_id=data["enterprise_id"],
        profile=pb.EnterpriseProfile(
            **{name: data[name] for name in PROFILE_WITH_CODE},
            contacts=[pb.Contact(**c) for c in data["contacts"]],
        ),
        status=STATUS.get(data["status"], pb.ENTERPRISE_STATUS_UNSPECIFIED),
        supervising_departments=data["supervisors"],
        version=data["version"],
    )


class EnterpriseServicer(enterprise_pb2_grpc.EnterpriseServiceServicer):
    def __init__(self, services: Services, auth: Authenticator) -> None:
        self.services, self.auth = services, auth

    @grpc_method
    def RegisterEnterprise(  # noqa: N802 - gRPC's method names
        self, request: pb.RegisterEnterpriseRequest, context: grpc.ServicerContext
    ) -> pb.RegisterEnterpriseResponse:
        self.auth.integrator(context)
        with fields_of(request.profile, "profile"):
            answer = self.services.call(
                "registry", "register", profile_dict(request.profile), request.idempotency_key
            )
        return pb.RegisterEnterpriseResponse(
            enterprise_id=answer["enterprise_id"],
            key_id=answer["key_id"],
            secret=answer["secret"],
            created=answer["created"],
        )

    @grpc_method
    def GetEnterprise(  # noqa: N802
        self, request: pb.GetEnterpriseRequest, context: grpc.ServicerContext
    ) -> pb.GetEnterpriseResponse:
        enterprise = self.auth.own(self.auth.enterprise(context), request.enterprise_id)
        data = self.services.call("registry", "get", enterprise)
        return pb.GetEnterpriseResponse(enterprise=enterprise_message(data))

    @grpc_method
    def UpdateEnterprise(  # noqa: N802
        self, request: pb.UpdateEnterpriseRequest, context: grpc.ServicerContext
    ) -> pb.UpdateEnterpriseResponse:
        enterprise = self.auth.own(self.auth.enterprise(context), request.enterprise_id)
        given = profile_dict(request.profile)
        changes = {path: given.get(path) for path in request.update_mask}  # the registry decides
        with fields_of(request.profile, "profile"):
            answer = self.services.call("registry", "update", enterprise, changes, request.idempotency_key)
        return pb.UpdateEnterpriseResponse(enterprise_id=answer["enterprise_id"], version=answer["version"])

    @grpc_method
    def ListSupervisingDepartments(  # noqa: N802
        self, request: pb.ListSupervisingDepartmentsRequest, context: grpc.ServicerContext
    ) -> pb.ListSupervisingDepartmentsResponse:
        enterprise = self.auth.own(self.auth.enterprise(context), request.enterprise_id)
        data = self.services.call("registry", "get", enterprise)
        return pb.ListSupervisingDepartmentsResponse(department_codes=data["supervisors"])

    @grpc_method
    def RegisterSigningKey(  # noqa: N802
        self, request: pb.RegisterSigningKeyRequest, context: grpc.ServicerContext
    ) -> pb.RegisterSigningKeyResponse:
        enterprise = self.auth.own(self.auth.enterprise(context), request.enterprise_id)
        role = ROLES.get(request.role)
        if role is None:
            raise ValidationError("role", "name the legal representative or the enterprise seal")
        answer = self.services.call("registry", "register_public_key", enterprise, role, request.public_key)
        return pb.RegisterSigningKeyResponse(public_key=answer["public_key"])
