"""TreeHeadService: the latest signed head of a store, and consistency proofs, for anyone who holds a
head (a department's platform checking its anchors, as Certificate Transparency monitors check logs).

Hashes and sizes only: no token. The heads come from the audit store, read-only; a wrong record can
only make a proof that fails the caller's check.
"""

from __future__ import annotations

from typing import Any

import grpc
from hub.v1 import audit_pb2, audit_pb2_grpc
from hub.v1 import department_pb2 as dept_pb

from services.audit.proofs import ProofError, consistency
from services.audit.reader import AuditReader
from services.audit.stores import audited_services
from services.backbone.edge.calls import grpc_method
from services.backbone.errors import NotFoundError, ValidationError
from services.kernel.tree_heads import TreeHead


def head_message(head: TreeHead) -> dept_pb.TreeHead:
    return dept_pb.TreeHead(**head.as_dict())


class TreeHeadServicer(audit_pb2_grpc.TreeHeadServiceServicer):  # type: ignore[misc]
    def __init__(self, reader: AuditReader) -> None:
        self.reader = reader

    def _audit(self, store: str) -> Any:
        if store not in audited_services():
            raise ValidationError("store", f"unknown store; known: {audited_services()}")
        audit = self.reader.audit
        if audit is None:
            raise NotFoundError("store", f"{store} has no signed head yet")
        return audit

    @grpc_method
    def GetLatestTreeHead(  # noqa: N802 - gRPC's name
        self, request: audit_pb2.GetLatestTreeHeadRequest, context: grpc.ServicerContext
    ) -> audit_pb2.GetLatestTreeHeadResponse:
        latest = self._audit(request.store).latest_head(request.store)
        if latest is None:
            raise NotFoundError("store", f"{request.store} has no signed head yet")
        return audit_pb2.GetLatestTreeHeadResponse(head=head_message(latest.head))

    @grpc_method
    def GetConsistencyProof(  # noqa: N802
        self, request: audit_pb2.GetConsistencyProofRequest, context: grpc.ServicerContext
    ) -> audit_pb2.GetConsistencyProofResponse:
        audit = self._audit(request.store)
        if not 0 <= request.first_size <= request.second_size:
            raise ValidationError("first_size", "must be between 0 and second_size")
        try:
            proof = consistency(audit, request.store, request.first_size, request.second_size)
        except ProofError as error:
            raise NotFoundError("second_size", str(error)) from None
        return audit_pb2.GetConsistencyProofResponse(proof=[h.hex() for h in proof])
