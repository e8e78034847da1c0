"""The auditors' side of the console: the audit endpoint (gRPC AuditService), with the auditor's token.

The console holds no auditor token of its own: it asks the endpoint, with the token an auditor signs
in with, and the endpoint alone decides (UNAUTHENTICATED for a wrong one).
"""

from __future__ import annotations

import threading
from typing import Any

import grpc
from hub.v1 import audit_pb2, audit_pb2_grpc

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


class AuditClient:
    """One channel to the audit endpoint, shared by the console's threads."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._channel: grpc.Channel | None = None
        self._lock = threading.Lock()

    def _stub(self) -> audit_pb2_grpc.AuditServiceStub:
        with self._lock:
            if self._channel is None:
                self._channel = grpc.insecure_channel(self.address)
            return audit_pb2_grpc.AuditServiceStub(self._channel)

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

    def verify(self, token: str, timeout: float = 3600.0) -> dict[str, Any]:
        """Every store's chain checked now: the endpoint's report, as plain values."""
        answer = self._stub().Verify(
            audit_pb2.VerifyRequest(), metadata=[(TOKEN_HEADER, token)], timeout=timeout
        )
        return {
            "ok": answer.ok,
            "stores": [
                {
                    "service": s.service,
                    "chained_events": s.chained_events,
                    "checked_events": s.checked_events,
                    "chain_position": s.chain_position,
                    "store_position": s.store_position,
                    "checkpoints": s.checkpoints,
                    "signed_position": s.signed_position,
                    "findings": [
                        {
                            "kind": FINDINGS.get(f.kind, "其他"),
                            "notification_id": f.notification_id,
                            "originator_id": f.originator_id,
                            "originator_version": f.originator_version,
                            "detail": f.detail,
                        }
                        for f in s.findings
                    ],
                }
                for s in answer.stores
            ],
        }

    def close(self) -> None:
        with self._lock:
            if self._channel is not None:
                self._channel.close()
                self._channel = None
