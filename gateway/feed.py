"""FilingFeedService: departments that would rather pull stream their filings and answer them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import grpc
from hub.v1 import department_pb2 as pb
from hub.v1 import department_pb2_grpc

from gateway.adapter.jobs import receipt_of
from gateway.inspector_auth import DepartmentAuthenticator
from services.backbone import correlation
from services.backbone.edge.calls import fields_of, grpc_method, grpc_server_stream
from services.backbone.errors import PermissionDeniedError, ValidationError
from services.backbone.rpc_client import Services
from services.kernel import receipts
from services.kernel.validation import INT64_MAX, bounded_int


def filing_message(department: str, item: dict[str, Any]) -> pb.Filing:
    enterprise = item["enterprise"]
    return pb.Filing(
        delivery_id=receipts.delivery_id(item["enterprise_id"], item["version"], department),
        department_code=department,
        enterprise=pb.FiledEnterprise(
            enterprise_id=item["enterprise_id"],
            unified_social_credit_code=enterprise.get("uscc", ""),
            name=enterprise.get("name", ""),
            town=enterprise.get("town", ""),
        ),
        version=item["version"],
        canonical_document=item["canonical"].encode("utf-8"),
        document_hash=item["document_hash"],
        signatures=[
            pb.Signature(role=role, public_key=item["public_keys"][role], signature=sig)
            for role, sig in sorted(item["signatures"].items())
        ],
        submitted_at=item["submitted_at"],
        correlation_id=item["correlation_id"],
    )


class FilingFeedServicer(department_pb2_grpc.FilingFeedServiceServicer):
    def __init__(self, services: Services, departments: DepartmentAuthenticator, poll: float = 1.0) -> None:
        self.services, self.departments, self.poll = services, departments, poll

    @grpc_server_stream
    def StreamFilings(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:  # noqa: N802
        department = self.departments.department(context)
        after = bounded_int(request.cursor or "0", "cursor", 0, INT64_MAX)
        cid = correlation.current()
        while context.is_active():
            items = self.services.call("filing", "feed", department, after, 100)
            for item in items:
                yield pb.StreamFilingsResponse(
                    filing=filing_message(department, item), cursor=str(item["cursor"])
                )
                after = item["cursor"]
                with correlation.bound(item.get("correlation_id") or cid):
                    self.services.call(
                        "filing",
                        "record_delivery",
                        item["enterprise_id"],
                        item["version"],
                        department,
                        "delivered",
                    )
            if not items:
                if request.stop_when_caught_up:
                    return
                time.sleep(self.poll)

    @grpc_method
    def AcknowledgeFiling(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        department = self.departments.department(context)
        receipt = request.receipt
        try:
            enterprise_id, version, code = receipts.parse_delivery_id(receipt.delivery_id)
        except receipts.MalformedDeliveryId as error:
            raise ValidationError("receipt.delivery_id", str(error)) from None
        if code != department:
            raise PermissionDeniedError("receipt.delivery_id", "a department answers only its own deliveries")
        answer = receipt_of(receipt)
        answer.check_form()
        # refuses a department the version was not sent to before anything else is looked at
        with fields_of(receipt, "receipt"):
            document_hash = self.services.call("filing", "document_hash", enterprise_id, version, department)
        registered = self._registered_key(department)
        try:
            key = receipts.trusted(answer.verified_key(document_hash), registered)
        except receipts.UntrustedReceipt as untrusted:
            raise ValidationError("receipt.signature", str(untrusted)) from None
        summary = self.services.call(
            "filing",
            "record_delivery",
            enterprise_id,
            version,
            department,
            answer.ledger_outcome,
            answer.reason,
            answer.answer(key),
        )
        if registered is None:  # the first accepted receipt of a department without a key: pinned
            self.services.call("registry", "pin_receipt_key", department, key)
        return pb.AcknowledgeFilingResponse(state=summary["ledger"].get(department, ""))

    def _registered_key(self, department: str) -> str | None:
        """The receipt key the registry holds for the department now (read on every answer, so a key
        changed by the operator applies to the next one), or None when it has none yet."""
        record = self.services.call("registry", "get_department", department)
        return str(record.get("receipt_public_key") or "") or None
