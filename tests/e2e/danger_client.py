"""Driving the hub's danger APIs as an enterprise's ERP and as a department's inspectors would."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from hub.v1 import danger_pb2 as pb
from hub.v1 import danger_pb2_grpc, enterprise_pb2_grpc, riskpoint_pb2_grpc
from hub.v1 import enterprise_pb2 as epb
from hub.v1 import riskpoint_pb2 as rpb
from nameko.exceptions import MethodNotFound, RpcTimeout, UnknownService
from nameko.standalone.rpc import ClusterRpcProxy
from typer.testing import CliRunner

from hubctl.main import app as hubctl
from tests.conftest import Hub, settings_env, wait_for
from tests.factories import enterprise_fields

TOWN_OFFICE = "ZSZ-AWB"  # 张山子镇安委会办公室: supervises every enterprise of its town
FAR = "2030-01-01"


def evidence(name: str) -> list[pb.Evidence]:
    import hashlib

    digest = hashlib.new("sm3", name.encode()).hexdigest()
    return [
        pb.Evidence(uri=f"https://erp.example.cn/{name}", hash_algorithm=pb.HASH_ALGORITHM_SM3, digest=digest)
    ]


def rpc(hub: Hub, service: str, method: str, *args: Any, timeout: float = 30) -> Any:
    with ClusterRpcProxy(hub.settings.nameko_config, timeout=timeout) as proxy:
        return getattr(getattr(proxy, service), method)(*args)


def wait_ready(hub: Hub, *services: str) -> None:
    """Until each nameko service answers (the hub fixture waits only for the gateway; a call sent
    before a service has declared its queue is dropped, unanswered)."""

    def answers(service: str) -> bool:
        try:
            rpc(hub, service, "no_such_method", timeout=5)
        except MethodNotFound:
            return True  # an answer: the service is listening
        except (RpcTimeout, UnknownService):
            return False
        return True

    for service in services:
        wait_for(
            lambda s=service: answers(s), timeout=120, interval=1, what=f"the {service} service to answer"
        )


def inspector_token(hub: Hub, department: str) -> str:
    """Registers the town office (once) and issues its inspectors' token with hubctl."""
    wait_ready(hub, "registry", "dangers")
    if department not in {d["code"] for d in rpc(hub, "registry", "list_departments")}:
        rpc(
            hub,
            "registry",
            "add_department",
            {
                "code": department,
                "name": "张山子镇安委会办公室",
                "kind": "镇安委会办公室",
                "town": "张山子镇",
            },
        )
    issued = CliRunner().invoke(hubctl, ["inspectors", "issue", department], env=settings_env(hub.settings))
    assert issued.exit_code == 0, issued.output
    return issued.output.split("token: ", 1)[1].strip()


@dataclass
class Erp:
    """An enterprise's ERP system: its own credential on the DangerService."""

    enterprise_id: str
    stub: danger_pb2_grpc.DangerServiceStub
    enterprises: enterprise_pb2_grpc.EnterpriseServiceStub
    metadata: tuple[tuple[str, str], ...]
    risk_point_id: str = ""  # its 配电室 risk point, which its dangers are found on

    @classmethod
    def register(cls, hub: Hub, channel: grpc.Channel, n: int) -> Erp:
        fields = enterprise_fields(n)
        contacts = [epb.Contact(**c) for c in fields.pop("contacts")]
        enterprises = enterprise_pb2_grpc.EnterpriseServiceStub(channel)
        answer = enterprises.RegisterEnterprise(
            epb.RegisterEnterpriseRequest(profile=epb.EnterpriseProfile(**fields, contacts=contacts)),
            metadata=(("x-hub-registration-token", hub.registration_token),),
        )
        own = (("x-hub-key-id", answer.key_id), ("x-hub-secret", answer.secret))
        point = (
            riskpoint_pb2_grpc.RiskPointServiceStub(channel)
            .CreateRiskPoint(
                rpb.CreateRiskPointRequest(
                    risk_point=rpb.RiskPointInput(
                        external_id="RP-配电室",
                        name="配电室",
                        location="综合楼一层",
                        category="设备设施",
                        accident_types=["触电"],
                        responsible_unit="动力车间",
                        responsible_person="孙主任",
                        responsible_mobile="13912345678",
                        control_measures=[rpb.ControlMeasure(type="制度管理", description="持证上岗")],
                        emergency_measures=["切断电源"],
                        assessment=rpb.AssessmentInput(
                            method=rpb.ASSESSMENT_METHOD_LEC, scores={"L": 3, "E": 6, "C": 3}
                        ),
                    )
                ),
                metadata=own,
            )
            .risk_point
        )
        stub = danger_pb2_grpc.DangerServiceStub(channel)
        return cls(answer.enterprise_id, stub, enterprises, own, point.risk_point_id)

    def call(self, method: str, request: Any) -> Any:
        return getattr(self.stub, method)(request, metadata=self.metadata)

    def status(self) -> int:
        return int(
            self.enterprises.GetEnterprise(
                epb.GetEnterpriseRequest(), metadata=self.metadata
            ).enterprise.status
        )

    def rectifying(self, grade: int = pb.DANGER_GRADE_GENERAL) -> str:
        """A danger reported, assessed and planned (deadline FAR, responsible person 孙主任)."""
        reported = self.call(
            "ReportDanger",
            pb.ReportDangerRequest(
                risk_point_id=self.risk_point_id,
                inspection_type=pb.INSPECTION_TYPE_ROUTINE,
                description="配电箱接地线脱落",
                evidence=evidence("before.jpg"),
                found_on="2026-11-20",
                reported_by="赵班长",
            ),
        )
        danger = reported.danger.danger_id
        self.call("AssessDanger", pb.AssessDangerRequest(danger_id=danger, grade=grade, assessed_by="安全科"))
        plan = pb.RectificationPlan(
            measures=["重新压接接地线"],
            responsible_person="孙主任",
            responsible_mobile="13912345678",
            deadline=FAR,
            interim_measures=["设置警示标志"],
            emergency_plan="触电事故现场处置方案",
        )
        self.call("PlanRectification", pb.PlanRectificationRequest(danger_id=danger, plan=plan))
        return str(danger)

    def submit(self, danger: str, summary: str = "接地线已压接") -> pb.Danger:
        done = pb.Rectification(
            rectified_by="周电工", completed_on="2026-11-25", summary=summary, evidence=evidence("after.jpg")
        )
        return self.call(
            "SubmitRectification", pb.SubmitRectificationRequest(danger_id=danger, rectification=done)
        ).danger


@dataclass
class Inspector:
    """A department's inspectors on the InspectionService."""

    stub: danger_pb2_grpc.InspectionServiceStub
    metadata: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, hub: Hub, channel: grpc.Channel, department: str = TOWN_OFFICE) -> Inspector:
        token = inspector_token(hub, department)
        headers = (("x-hub-department", department), ("x-hub-department-token", token))
        return cls(danger_pb2_grpc.InspectionServiceStub(channel), headers)

    def call(self, method: str, request: Any) -> Any:
        return getattr(self.stub, method)(request, metadata=self.metadata)

    def wait_uninspected(self, enterprise_id: str) -> None:
        """Until the dangers service has followed the registry's events about the enterprise."""

        def listed() -> bool:
            found = self.call("ListUninspectedEnterprises", pb.ListUninspectedEnterprisesRequest())
            return enterprise_id in {e.enterprise_id for e in found.enterprises}

        wait_for(listed, timeout=60, what=f"enterprise {enterprise_id} among the uninspected")
