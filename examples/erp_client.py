"""An ERP system's side of the hub: register an enterprise, read it back, change its address.

    .venv/bin/python examples/erp_client.py [CREDIT_CODE]

Against `make run`: the gateway listens on 127.0.0.1:50051 (HUB_GATEWAY_ADDRESS) and the integrator's
registration token is in var/registration.token (or HUB_REGISTRATION_TOKEN). With TLS on the gateway
(HUB_TLS_CERT/HUB_TLS_KEY), set HUB_TLS_CA to the PEM file of the CA that signed its certificate.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import grpc
from hub.v1 import enterprise_pb2 as pb
from hub.v1 import enterprise_pb2_grpc

ADDRESS = os.environ.get("HUB_GATEWAY_ADDRESS", "127.0.0.1:50051")


def registration_token() -> str:
    token = os.environ.get("HUB_REGISTRATION_TOKEN")
    runtime = Path(os.environ.get("HUB_RUNTIME_DIR", "var"))
    return token or (runtime / "registration.token").read_text(encoding="utf-8").strip()


def channel() -> grpc.Channel:
    ca = os.environ.get("HUB_TLS_CA")
    if ca:
        return grpc.secure_channel(ADDRESS, grpc.ssl_channel_credentials(Path(ca).read_bytes()))
    return grpc.insecure_channel(ADDRESS)


def main(credit_code: str = "91350100M000100Y43") -> int:
    stub = enterprise_pb2_grpc.EnterpriseServiceStub(channel())
    profile = pb.EnterpriseProfile(
        unified_social_credit_code=credit_code,
        name="台儿庄区示例化工有限公司",
        legal_representative="王五",
        legal_representative_mobile="13800138000",
        industry="化工",
        address="张山子镇工业园1号",
        town="张山子镇",
        contacts=[pb.Contact(name="李安全", role="安全员", mobile="13912345678")],
    )
    try:
        # 1. Register. The idempotency key makes a retry (timeout, crash) safe: same answer, same secret.
        registered = stub.RegisterEnterprise(
            pb.RegisterEnterpriseRequest(profile=profile, idempotency_key=f"erp-demo-{credit_code}"),
            metadata=[("x-hub-registration-token", registration_token())],
        )
        # Keep key_id and secret in the ERP's secret store: every later call authenticates with them.
        own = [("x-hub-key-id", registered.key_id), ("x-hub-secret", registered.secret)]
        print(f"registered {registered.enterprise_id} (new: {registered.created})")

        # 2. Read it back: an enterprise sees only itself.
        enterprise = stub.GetEnterprise(pb.GetEnterpriseRequest(), metadata=own).enterprise
        status = pb.EnterpriseStatus.Name(enterprise.status)
        supervisors = ", ".join(enterprise.supervising_departments) or "none yet"
        print(f"{enterprise.profile.name}: {status}, supervised by {supervisors}")

        # 3. Update: name the fields to change in update_mask.
        changed = stub.UpdateEnterprise(
            pb.UpdateEnterpriseRequest(
                profile=pb.EnterpriseProfile(address="张山子镇工业园2号"), update_mask=["address"]
            ),
            metadata=own,
        )
        print(f"address changed, version {changed.version}")
    except grpc.RpcError as error:
        # INVALID_ARGUMENT carries every field and rule (google.rpc.BadRequest); the message lists them too.
        print(f"refused: {error.code().name}: {error.details()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
