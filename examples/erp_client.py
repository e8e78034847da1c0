"""An ERP system's side of the hub: register an enterprise, read it back, change its address, import
its risk points.

    .venv/bin/python examples/erp_client.py [CREDIT_CODE] [--env]

With --env it ends with the enterprise's credential and id as shell exports (HUB_KEY_ID, HUB_SECRET,
ENTERPRISE_ID), for the signing walk-through that follows in README (an ERP keeps them in its secret
store instead).

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
from hub.v1 import enterprise_pb2_grpc, riskpoint_pb2_grpc
from hub.v1 import riskpoint_pb2 as rpb

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


def risk_point(external_id: str, name: str, location: str) -> rpb.RiskPointInput:
    """One risk point as the ERP keeps it, graded by LEC (L=3, E=6, C=7: D=126, level 3)."""
    return rpb.RiskPointInput(
        external_id=external_id,
        name=name,
        location=location,
        category="设备设施",
        accident_types=["火灾", "其他爆炸"],
        responsible_unit="储运车间",
        responsible_person="赵主任",
        responsible_mobile="13912345678",
        control_measures=[rpb.ControlMeasure(type="在线监测", description="可燃气体报警仪，24小时监测")],
        emergency_measures=["切断进料阀", "启动消防喷淋"],
        assessment=rpb.AssessmentInput(method=rpb.ASSESSMENT_METHOD_LEC, scores={"L": 3, "E": 6, "C": 7}),
    )


def main(credit_code: str = "91350100M000100Y43", *flags: str) -> int:
    channel_ = channel()
    stub = enterprise_pb2_grpc.EnterpriseServiceStub(channel_)
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

        # 4. Risk points, in bulk: every item is answered (created, changed, unchanged or rejected).
        items = [
            risk_point("RP-001", "液氨储罐区", "厂区东侧"),
            risk_point("RP-002", "导热油炉房", "二车间北"),
        ]
        points = riskpoint_pb2_grpc.RiskPointServiceStub(channel_)
        for answer in points.ImportRiskPoints(iter([rpb.ImportRiskPointsRequest(items=items)]), metadata=own):
            for item in answer.results:
                print(f"risk point {item.external_id}: {rpb.ImportItemStatus.Name(item.status)}")
        if "--env" in flags:  # the credential, for the shell that runs the signing walk-through next
            print(f"export HUB_KEY_ID={registered.key_id} HUB_SECRET={registered.secret}")
            print(f"export ENTERPRISE_ID={registered.enterprise_id}")
    except grpc.RpcError as error:
        # INVALID_ARGUMENT carries every field and rule (google.rpc.BadRequest); the message lists them too.
        print(f"refused: {error.code().name}: {error.details()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    sys.exit(main(*args[:1], *[a for a in sys.argv[1:] if a.startswith("--")]))
