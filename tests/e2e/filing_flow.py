"""Driving the hub as an ERP and an operator would, for the filing and department tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from hub.v1 import enterprise_pb2 as epb
from hub.v1 import enterprise_pb2_grpc, filing_pb2_grpc
from hub.v1 import filing_pb2 as fpb
from nameko.standalone.rpc import ClusterRpcProxy

from services.kernel import signatures
from tests.conftest import Hub, wait_for
from tests.factories import enterprise_fields

TOWN = "张山子镇"


def setup_departments(hub: Hub, extra: dict[str, tuple[str, str]] | None = None) -> None:
    """The reference platforms `make run` starts, plus extra {code: (kind, address)}; chemical
    enterprises are supervised by 安监 (and, always, by their town's office)."""
    departments = {
        "AJJ-TEZ": ("安监", hub.platforms["AJJ-TEZ"], ""),
        "TOWN-ZSZ": ("镇安委会办公室", hub.platforms["TOWN-ZSZ"], TOWN),
    }
    for code, (kind, address) in (extra or {}).items():
        departments[code] = (kind, address, "")
    with ClusterRpcProxy(hub.settings.nameko_config) as rpc:
        for code, (kind, address, town) in departments.items():
            rpc.registry.add_department(
                {"code": code, "name": f"{code} 平台", "kind": kind, "town": town, "endpoint": address}
            )
        rpc.registry.set_routing_rule("化工", "*", ["AJJ-TEZ"])


@dataclass
class Filer:
    """One enterprise's ERP: its credential, its signing keys, its stubs."""

    hub: Hub
    enterprise_id: str
    metadata: tuple[tuple[str, str], ...]
    keys: dict[str, signatures.KeyPair]
    enterprises: Any
    filings: Any

    @classmethod
    def register(cls, hub: Hub, n: int, industry: str = "化工") -> Filer:
        channel = grpc.insecure_channel(hub.gateway_address)
        enterprises = enterprise_pb2_grpc.EnterpriseServiceStub(channel)
        fields = enterprise_fields(n, industry=industry, town=TOWN)
        contacts = [epb.Contact(**c) for c in fields.pop("contacts")]
        answer = enterprises.RegisterEnterprise(
            epb.RegisterEnterpriseRequest(profile=epb.EnterpriseProfile(**fields, contacts=contacts)),
            metadata=(("x-hub-registration-token", hub.registration_token),),
        )
        metadata = (("x-hub-key-id", answer.key_id), ("x-hub-secret", answer.secret))
        keys = {}
        for role, enum in (
            ("legal_representative", epb.SIGNING_ROLE_LEGAL_REPRESENTATIVE),
            ("enterprise_seal", epb.SIGNING_ROLE_ENTERPRISE_SEAL),
        ):
            keys[role] = signatures.generate_keypair()
            enterprises.RegisterSigningKey(
                epb.RegisterSigningKeyRequest(role=enum, public_key=keys[role].public_key_hex),
                metadata=metadata,
            )
        filer = cls(
            hub, answer.enterprise_id, metadata, keys, enterprises, filing_pb2_grpc.FilingServiceStub(channel)
        )
        filer.wait_until_filing_knows_it()
        return filer

    def wait_until_filing_knows_it(self) -> None:
        def ready() -> bool:
            # a proxy per look: one whose broker restarts under it (make chaos) stays broken
            try:
                with ClusterRpcProxy(self.hub.settings.nameko_config, timeout=10) as rpc:
                    view = rpc.filing.enterprise_view(self.enterprise_id)
            except Exception:  # noqa: BLE001 - not there yet, or the broker is away
                return False
            return len(view["public_keys"]) == 2 and len(view["supervisors"]) >= 2

        wait_for(ready, timeout=60, what="the filing view to hold keys and supervisors")

    def file(self) -> int:
        """Compiles, signs and submits; returns the version filed."""
        compiled = self.filings.CompileRegister(fpb.CompileRegisterRequest(), metadata=self.metadata)
        data = compiled.canonical_document
        self.filings.SubmitRegister(
            fpb.SubmitRegisterRequest(
                version=compiled.version.version,
                legal_representative_signature=signatures.sign(
                    self.keys["legal_representative"].private_key_hex, data
                ),
                enterprise_seal_signature=signatures.sign(self.keys["enterprise_seal"].private_key_hex, data),
            ),
            metadata=self.metadata,
        )
        return int(compiled.version.version)

    def ledger(self, version: int = 0) -> dict[str, tuple[int, str]]:
        status = self.filings.GetFilingStatus(
            fpb.GetFilingStatusRequest(version=version), metadata=self.metadata
        )
        return {d.department_code: (d.state, d.reason) for d in status.version.ledger}

    def wait_answered(self, version: int, timeout: float = 90) -> dict[str, tuple[int, str]]:
        final = {fpb.DELIVERY_STATE_ACKNOWLEDGED, fpb.DELIVERY_STATE_REJECTED}
        return wait_for(
            lambda: (
                (ledger := self.ledger(version)) and all(s in final for s, _ in ledger.values()) and ledger
            ),
            timeout=timeout,
            what=f"every department to answer version {version}",
        )
