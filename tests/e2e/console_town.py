"""A small town for the console's browser tests, made as its people would make it: the operator adds a
住建 department and its routing rule, `hubctl demo` files a few enterprises' registers, 安监 inspects one
and finds a major danger (a case is opened), one more enterprise registers but files nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc
from hub.v1 import danger_pb2 as dpb
from hub.v1 import danger_pb2_grpc, enterprise_pb2_grpc
from hub.v1 import enterprise_pb2 as epb
from nameko.standalone.rpc import ClusterRpcProxy
from typer.testing import CliRunner

from hubctl.main import app as hubctl
from services.audit.keys import auditor_token
from tests.conftest import Hub, wait_for
from tests.e2e.danger_client import evidence, wait_ready

TOWN = "张山子镇"
OFFICE, AJJ, ZJ = "TOWN-ZSZ", "AJJ-TEZ", "TEZ-ZJ"
CONSTRUCTION = "建筑施工"
FILED = 4  # enterprises hubctl demo registers and files (demo_town: 化工, 建筑施工, 烟花爆竹, 冶金)


@dataclass
class Town:
    tokens: dict[str, str] = field(default_factory=dict)  # department code → its inspectors' token
    auditor: str = ""
    enterprises: list[dict[str, Any]] = field(default_factory=list)  # registry records, filed first
    unfiled: str = ""  # the enterprise that registered and filed nothing
    inspected: str = ""  # the enterprise 安监 inspected (a case is open on it)


def rpc(hub: Hub, service: str, method: str, *args: Any) -> Any:
    with ClusterRpcProxy(hub.settings.nameko_config, timeout=60) as proxy:
        return getattr(getattr(proxy, service), method)(*args)


def hubctl_run(hub: Hub, *args: str) -> str:
    done = CliRunner().invoke(hubctl, list(args), env=hub.env, catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return done.output


def make_town(hub: Hub) -> Town:
    wait_ready(hub, "registry", "dangers", "filing", "riskpoints", "notifications")
    rpc(hub, "registry", "add_department", {"code": ZJ, "name": "台儿庄区住房和城乡建设局", "kind": "住建"})
    rpc(hub, "registry", "set_routing_rule", CONSTRUCTION, "*", [ZJ])
    hubctl_run(hub, "demo", "--enterprises", str(FILED), "--gateway", hub.gateway_address)
    town = Town(auditor=auditor_token(hub.settings.runtime_dir))
    for code in (OFFICE, AJJ, ZJ):
        town.tokens[code] = hubctl_run(hub, "inspectors", "issue", code).split("token: ", 1)[1].strip()
    town.enterprises = sorted(rpc(hub, "registry", "list_enterprises", TOWN, ""), key=lambda e: e["name"])
    channel = grpc.insecure_channel(hub.gateway_address)
    try:
        town.unfiled = register_unfiled(hub, channel)
        town.inspected = next(e for e in town.enterprises if e.get("industry") == "化工")["enterprise_id"]
        inspect(channel, town.tokens[AJJ], town.inspected)
    finally:
        channel.close()
    return town


def register_unfiled(hub: Hub, channel: grpc.Channel) -> str:
    stub = enterprise_pb2_grpc.EnterpriseServiceStub(channel)
    answer = stub.RegisterEnterprise(
        epb.RegisterEnterpriseRequest(
            profile=epb.EnterpriseProfile(
                unified_social_credit_code="91350100M000100Y43",
                name="枣庄市台儿庄区张山子食品加工未报厂",
                legal_representative="钱未报",
                legal_representative_mobile="13600136000",
                industry="食品加工",
                address="张山子镇工业园9号",
                town=TOWN,
                contacts=[epb.Contact(name="孙联络", role="安全员", mobile="13600136001")],
            ),
            idempotency_key="console-unfiled",
        ),
        metadata=(("x-hub-registration-token", hub.registration_token),),
    )
    return str(answer.enterprise_id)


def inspect(channel: grpc.Channel, token: str, enterprise_id: str) -> None:
    """安监 inspects the enterprise and finds a major danger: the case is opened (立案)."""
    stub = danger_pb2_grpc.InspectionServiceStub(channel)
    headers = (("x-hub-department", AJJ), ("x-hub-department-token", token))

    def record() -> bool:
        try:
            stub.RecordInspection(
                dpb.RecordInspectionRequest(
                    enterprise_id=enterprise_id,
                    document_no="台应急检〔2026〕12号",
                    inspector_name="郑检查",
                    inspected_on="2026-11-30",
                    findings=[
                        dpb.InspectionFinding(
                            risk_point_id="rp-tank",
                            description="液氨储罐区无泄漏报警装置",
                            evidence=evidence("tank.jpg"),
                            grade=dpb.DANGER_GRADE_MAJOR,
                        )
                    ],
                ),
                metadata=headers,
            )
        except grpc.RpcError as error:
            # the dangers service follows the registry's supervision a moment later
            if error.code() in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND):  # type: ignore[attr-defined]
                return False
            raise
        return True

    wait_for(record, timeout=60, interval=0.5, what="安监 to be able to inspect the enterprise")
