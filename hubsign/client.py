"""The gRPC calls an enterprise's signer makes: register a key, compile or fetch the register, submit."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from hub.v1 import enterprise_pb2 as epb
from hub.v1 import enterprise_pb2_grpc, filing_pb2_grpc
from hub.v1 import filing_pb2 as fpb

ROLES = {
    "legal_representative": epb.SIGNING_ROLE_LEGAL_REPRESENTATIVE,
    "enterprise_seal": epb.SIGNING_ROLE_ENTERPRISE_SEAL,
}
STATES = {v: k.removeprefix("DELIVERY_STATE_").lower() for k, v in fpb.DeliveryState.items()}
STATUSES = {v: k.removeprefix("FILING_STATUS_").lower() for k, v in fpb.FilingStatus.items()}


@dataclass
class Register:
    """A compiled version: the exact bytes to sign, as the hub answered them."""

    version: int
    status: str
    document_hash: str
    canonical: bytes
    created: bool = False


class Hub:
    """The gateway, called with the enterprise's own credential."""

    def __init__(self, address: str, key_id: str, secret: str, ca: str = "", timeout: float = 30.0) -> None:
        if not key_id or not secret:
            raise ValueError(
                "the enterprise's credential is needed: --key-id/--secret or HUB_KEY_ID/HUB_SECRET"
            )
        if ca:
            self.channel = grpc.secure_channel(address, grpc.ssl_channel_credentials(Path(ca).read_bytes()))
        else:
            self.channel = grpc.insecure_channel(address)
        self.metadata = (("x-hub-key-id", key_id), ("x-hub-secret", secret))
        self.timeout = timeout
        self.enterprises = enterprise_pb2_grpc.EnterpriseServiceStub(self.channel)
        self.filings = filing_pb2_grpc.FilingServiceStub(self.channel)

    @classmethod
    def from_env(cls, **given: Any) -> Hub:
        """Options given win over HUB_GATEWAY_ADDRESS, HUB_KEY_ID, HUB_SECRET and HUB_TLS_CA."""
        return cls(
            given.get("address") or os.environ.get("HUB_GATEWAY_ADDRESS", "127.0.0.1:50051"),
            given.get("key_id") or os.environ.get("HUB_KEY_ID", ""),
            given.get("secret") or os.environ.get("HUB_SECRET", ""),
            given.get("ca") or os.environ.get("HUB_TLS_CA", ""),
        )

    def _call(self, method: Any, request: Any) -> Any:
        return method(request, metadata=self.metadata, timeout=self.timeout)

    def register_key(self, role: str, public_key: str) -> str:
        """Registers a role's public key (hex or PEM); answers it as the hub stores it."""
        request = epb.RegisterSigningKeyRequest(role=ROLES[role], public_key=public_key)
        return str(self._call(self.enterprises.RegisterSigningKey, request).public_key)

    def compile(self) -> Register:
        answer = self._call(self.filings.CompileRegister, fpb.CompileRegisterRequest())
        return _register(answer.version, answer.canonical_document, answer.created)

    def fetch(self, version: int) -> Register:
        answer = self._call(self.filings.GetRegisterVersion, fpb.GetRegisterVersionRequest(version=version))
        return _register(answer.version, answer.canonical_document)

    def submit(self, version: int, signed: dict[str, str]) -> dict[str, Any]:
        request = fpb.SubmitRegisterRequest(
            version=version,
            legal_representative_signature=signed.get("legal_representative", ""),
            enterprise_seal_signature=signed.get("enterprise_seal", ""),
        )
        return ledger(self._call(self.filings.SubmitRegister, request).version)

    def status(self, version: int = 0) -> dict[str, Any]:
        request = fpb.GetFilingStatusRequest(version=version)
        return ledger(self._call(self.filings.GetFilingStatus, request).version)

    def close(self) -> None:
        self.channel.close()


def _register(version: Any, canonical: bytes, created: bool = False) -> Register:
    status = STATUSES.get(version.status, "unspecified")
    return Register(int(version.version), status, version.document_hash, bytes(canonical), created)


def ledger(version: Any) -> dict[str, Any]:
    """A version's summary and each department's answer, as plain values."""
    return {
        "version": int(version.version),
        "status": STATUSES.get(version.status, "unspecified"),
        "document_hash": version.document_hash,
        "departments": {
            d.department_code: {"state": STATES.get(d.state, "unspecified"), "reason": d.reason}
            for d in version.ledger
        },
    }
