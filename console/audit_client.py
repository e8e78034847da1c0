"""The auditors' side of the console: the audit endpoint (gRPC AuditService, with the auditor's token;
TreeHeadService, which anyone may ask).

The console holds no auditor token of its own: it asks the endpoint, with the token an auditor signs
in with, and the endpoint alone decides (UNAUTHENTICATED for a wrong one).
"""

from __future__ import annotations

import threading
from typing import Any

import grpc
from hub.v1 import audit_pb2, audit_pb2_grpc, department_pb2

from services.kernel import tree_heads

TOKEN_HEADER = "x-hub-auditor-token"
FINDINGS = {
    audit_pb2.FINDING_KIND_ALTERED: "被篡改",
    audit_pb2.FINDING_KIND_REMOVED: "被删除",
    audit_pb2.FINDING_KIND_INSERTED: "被插入",
    audit_pb2.FINDING_KIND_RECORDS: "摘要记录不符",
    audit_pb2.FINDING_KIND_UNLINKED: "写入链接无效（绕过服务写入或改动）",
    audit_pb2.FINDING_KIND_HEAD: "树头签名无效",
    audit_pb2.FINDING_KIND_TRUNCATED: "被截断",
    audit_pb2.FINDING_KIND_REWRITTEN: "被改写",
    audit_pb2.FINDING_KIND_FORKED: "分叉（同一位置两个树头）",
    audit_pb2.FINDING_KIND_ANCHOR: "锚点签名无效",
}

HEAD_FIELDS = tree_heads.FIELDS  # a signed head's fields, as the kernel's TreeHead holds them


def anchor_message(head: dict[str, Any]) -> department_pb2.TreeHead:
    """A signed head the console holds, as the TreeHead message Verify holds a store against."""
    return department_pb2.TreeHead(**{k: head[k] for k in HEAD_FIELDS})


def store_report(s: audit_pb2.StoreVerification) -> dict[str, Any]:
    """One store's verification, as plain values (findings in Chinese)."""
    return {
        "service": s.service,
        "events": s.events,
        "linked_events": s.linked_events,
        "store_position": s.store_position,
        "heads": s.heads,
        "signed_size": s.signed_size,
        "anchors": s.anchors,
        "anchored_size": s.anchored_size,
        "findings": [
            {
                "kind": FINDINGS.get(f.kind, "其他"),
                "notification_id": f.notification_id,
                "last_id": f.last_id,
                "count": f.count,
                "originator_id": f.originator_id,
                "originator_version": f.originator_version,
                "detail": f.detail,
            }
            for f in s.findings
        ],
    }


class AuditClient:
    """One channel to the audit endpoint, shared by the console's threads."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._channel: grpc.Channel | None = None
        self._lock = threading.Lock()

    def _open(self) -> grpc.Channel:
        with self._lock:
            if self._channel is None:
                self._channel = grpc.insecure_channel(self.address)
            return self._channel

    def _stub(self) -> audit_pb2_grpc.AuditServiceStub:
        return audit_pb2_grpc.AuditServiceStub(self._open())

    def accepts(self, token: str) -> bool:
        """Whether the endpoint takes this token: a call it refuses for its argument, not the token."""
        try:
            self._stub().GetStateAsOf(
                audit_pb2.GetStateAsOfRequest(enterprise_id=""), metadata=[(TOKEN_HEADER, token)], timeout=10
            )
        except grpc.RpcError as error:
            code = error.code()  # type: ignore[attr-defined]
            if code == grpc.StatusCode.UNAUTHENTICATED:
                return False
            if code == grpc.StatusCode.INVALID_ARGUMENT:
                return True
            raise
        return True

    def verify(
        self, token: str, anchors: list[dict[str, Any]] | None = None, timeout: float = 3600.0
    ) -> dict[str, Any]:
        """Every store verified now (its write-time links, its tree against every signed head, and
        against the anchors given: heads kept outside the audit's store): the report, as plain values."""
        request = audit_pb2.VerifyRequest(anchors=[anchor_message(a) for a in anchors or []])
        answer = self._stub().Verify(request, metadata=[(TOKEN_HEADER, token)], timeout=timeout)
        return {"ok": answer.ok, "stores": [store_report(s) for s in answer.stores]}

    def latest_head(self, store: str) -> dict[str, Any] | None:
        """The store's latest signed head, from TreeHeadService (anyone may ask); None before its first."""
        stub = audit_pb2_grpc.TreeHeadServiceStub(self._open())
        try:
            answer = stub.GetLatestTreeHead(audit_pb2.GetLatestTreeHeadRequest(store=store), timeout=30)
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:  # type: ignore[attr-defined]
                return None
            raise
        return {k: getattr(answer.head, k) for k in HEAD_FIELDS}

    def close(self) -> None:
        with self._lock:
            if self._channel is not None:
                self._channel.close()
                self._channel = None
