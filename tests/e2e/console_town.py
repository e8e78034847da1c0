"""A small town for the console's browser tests, made through the hub's front doors (tests/town_load.py):
安监 (every enterprise), 住建 (the building sites) and the town office; three enterprises register,
import their risk points, sign and file their registers; 安监 inspects the chemical works and finds a
major danger (a case is opened); one more enterprise registers and files nothing. Every call is sent
again while the shared broker restarts, so a restart during the set-up does not fail the module."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc
from hub.v1 import danger_pb2 as dpb
from hub.v1 import danger_pb2_grpc, enterprise_pb2_grpc
from hub.v1 import enterprise_pb2 as epb

from services.audit.keys import auditor_token
from services.kernel import identity
from tests.conftest import Hub
from tests.e2e.danger_client import evidence, wait_ready
from tests.town_load import AJJ, OFFICE, ZJ, calling, load, point_external_id, rpc

TOWN = "张山子镇"
CONSTRUCTION = "建筑施工"
FILED = 3  # enterprises that register and file (demo_town: 化工, 建筑施工, 烟花爆竹)
__all__ = ["AJJ", "CONSTRUCTION", "FILED", "OFFICE", "TOWN", "ZJ", "Town", "make_town", "rpc"]


@dataclass
class Town:
    tokens: dict[str, str] = field(default_factory=dict)  # department code → its inspectors' token
    auditor: str = ""
    enterprises: list[dict[str, Any]] = field(default_factory=list)  # registry records, by name
    unfiled: str = ""  # the enterprise that registered and filed nothing
    inspected: str = ""  # the enterprise 安监 inspected (a case is open on it)


def make_town(hub: Hub) -> Town:
    wait_ready(hub, "registry", "dangers", "filing", "riskpoints", "notifications")
    loaded = load(hub, FILED, 3, filed_share=1.0, dangers=0, inspections=0, campaign_and_report=False)
    town = Town(auditor=auditor_token(hub.settings))
    for code in (OFFICE, AJJ, ZJ):
        town.tokens[code] = rpc(hub, "dangers", "issue_inspector_token", code)["token"]
    town.enterprises = sorted(rpc(hub, "registry", "list_enterprises", TOWN, ""), key=lambda e: e["name"])
    channel = grpc.insecure_channel(hub.gateway_address)
    try:
        town.unfiled = register_unfiled(hub, channel)
        town.inspected = next(e for e in town.enterprises if e.get("industry") == "化工")["enterprise_id"]
        point = identity.risk_point_id(town.inspected, point_external_id(town.inspected, loaded))
        inspect(channel, town.tokens[AJJ], town.inspected, str(point))
    finally:
        channel.close()
    return town


def register_unfiled(hub: Hub, channel: grpc.Channel) -> str:
    stub = enterprise_pb2_grpc.EnterpriseServiceStub(channel)
    request = epb.RegisterEnterpriseRequest(
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
    )
    answer = calling(
        lambda: stub.RegisterEnterprise(
            request, metadata=(("x-hub-registration-token", hub.registration_token),)
        )
    )
    assert answer is not None
    return str(answer.enterprise_id)


def inspect(channel: grpc.Channel, token: str, enterprise_id: str, risk_point_id: str) -> None:
    """安监 inspects the enterprise and finds a major danger: the case is opened (立案)."""
    stub = danger_pb2_grpc.InspectionServiceStub(channel)
    request = dpb.RecordInspectionRequest(
        enterprise_id=enterprise_id,
        document_no="台应急检〔2026〕12号",
        inspector_name="郑检查",
        inspected_on="2026-11-30",
        findings=[
            dpb.InspectionFinding(
                risk_point_id=risk_point_id,
                description="液氨储罐区无泄漏报警装置",
                evidence=evidence("tank.jpg"),
                grade=dpb.DANGER_GRADE_MAJOR,
            )
        ],
    )
    calling(
        lambda: stub.RecordInspection(
            request, metadata=(("x-hub-department", AJJ), ("x-hub-department-token", token))
        )
    )
