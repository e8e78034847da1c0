"""Every field of every gateway method, one at a time, at and beyond its edges (generated from the proto
descriptors, tests/e2e/hostile.py): no answer is UNKNOWN or INTERNAL, no date at the ends of the calendar
is accepted, no refused request leaves a trace in any store. `make fuzz` runs the long version."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf.descriptor import MethodDescriptor
from hub.v1 import danger_pb2, department_pb2, enterprise_pb2, filing_pb2, riskpoint_pb2, town_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.backbone.settings import SERVICES
from services.backbone.store import open_store
from services.backbone.stream import application_class
from tests.conftest import Hub, isolated_hub_settings
from tests.e2e import hostile
from tests.e2e.danger_client import evidence, rpc
from tests.e2e.filing_flow import Filer, setup_departments

pytestmark = pytest.mark.e2e
LONG = os.environ.get("HUB_FUZZ") == "1"  # make fuzz
MODULES = (enterprise_pb2, riskpoint_pb2, danger_pb2, filing_pb2, town_pb2, department_pb2)
METHODS = [
    m
    for module in MODULES
    for s in module.DESCRIPTOR.services_by_name.values()
    if s.name != "DepartmentPlatformService"  # the departments' own contract: tested on the platform
    for m in s.methods
]
REFUSED: list[str] = []
SENT: list[int] = [0]


@pytest.fixture(scope="module")
def prepared(
    infrastructure: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Hub, hostile.Prepared]]:
    tmp: Path = tmp_path_factory.mktemp("sweep")
    with isolated_hub_settings(tmp) as value:
        hub = Hub(value, tmp)
        try:
            hub.start_all()
            setup_departments(hub)
            yield hub, prepare(hub)
        finally:
            hub.stop()


def prepare(hub: Hub, n: int = 91, external_id: str = "RP-SWEEP-1") -> hostile.Prepared:
    """An enterprise with a risk point, a danger on it, a filed register and a case; tokens for every
    role of 安监 and the town office."""
    filer = Filer.register(hub, n)
    channel = grpc.insecure_channel(hub.gateway_address)
    points = riskpoint_pb2_grpc_stub(channel)
    point = points.CreateRiskPoint(
        riskpoint_pb2.CreateRiskPointRequest(
            risk_point=riskpoint_pb2.RiskPointInput(
                external_id=external_id,
                name="液氨储罐区",
                location="厂区东侧",
                category="设备设施",
                accident_types=["火灾", "容器爆炸"],
                responsible_unit="储运车间",
                responsible_person="张三",
                responsible_mobile="13800138000",
                control_measures=[riskpoint_pb2.ControlMeasure(type="在线监测", description="报警仪")],
                emergency_measures=["紧急切断", "疏散"],
                adjacent_units=["邻厂 台儿庄区某物流公司"],
                assessment=riskpoint_pb2.AssessmentInput(
                    method=riskpoint_pb2.ASSESSMENT_METHOD_LEC, scores={"L": 3, "E": 6, "C": 40}
                ),
            )
        ),
        metadata=filer.metadata,
    ).risk_point
    version = filer.file()
    tokens = {
        scope: rpc(hub, "dangers", "issue_inspector_token", code, scope)["token"]
        for scope, code in (("inspections", "AJJ-TEZ"), ("feed", "AJJ-TEZ"), ("town", "TOWN-ZSZ"))
    }
    department = {
        scope: (("x-hub-department", code), ("x-hub-department-token", tokens[scope]))
        for scope, code in (("inspections", "AJJ-TEZ"), ("feed", "AJJ-TEZ"), ("town", "TOWN-ZSZ"))
    }
    dangers = danger_pb2_grpc_stub(channel)
    danger = dangers.ReportDanger(
        danger_pb2.ReportDangerRequest(
            risk_point_id=point.risk_point_id,
            inspection_type=danger_pb2.INSPECTION_TYPE_ROUTINE,
            description="储罐区可燃气体报警仪失灵",
            evidence=evidence("alarm.jpg"),
            found_on=hostile.today().isoformat(),
            reported_by="安全员",
        ),
        metadata=filer.metadata,
    ).danger
    inspections = inspection_stub(channel)
    inspected = inspections.RecordInspection(
        danger_pb2.RecordInspectionRequest(
            enterprise_id=filer.enterprise_id,
            document_no=f"检〔2026〕{n}号",
            inspector_name="郑检查",
            inspected_on=hostile.today().isoformat(),
            findings=[
                danger_pb2.InspectionFinding(
                    risk_point_id=point.risk_point_id,
                    description="液氨管线未设紧急切断阀",
                    grade=danger_pb2.DANGER_GRADE_MAJOR,
                )
            ],
        ),
        metadata=department["inspections"],
    )
    channel.close()
    return hostile.Prepared(
        enterprise_id=filer.enterprise_id,
        risk_point_id=point.risk_point_id,
        external_id=external_id,
        danger_id=danger.danger_id,
        case_id=inspected.case_ids[0],
        version=version,
        department="AJJ-TEZ",
        enterprise_metadata=filer.metadata,
        registration_metadata=(("x-hub-registration-token", hub.registration_token),),
        department_metadata=department,
    )


def riskpoint_pb2_grpc_stub(channel: grpc.Channel) -> object:
    from hub.v1 import riskpoint_pb2_grpc

    return riskpoint_pb2_grpc.RiskPointServiceStub(channel)


def danger_pb2_grpc_stub(channel: grpc.Channel) -> object:
    from hub.v1 import danger_pb2_grpc

    return danger_pb2_grpc.DangerServiceStub(channel)


def inspection_stub(channel: grpc.Channel) -> object:
    from hub.v1 import danger_pb2_grpc

    return danger_pb2_grpc.InspectionServiceStub(channel)


def send(hub: Hub, prepared: hostile.Prepared, method: MethodDescriptor, request: object) -> grpc.StatusCode:
    cid = hostile.new_cid()
    code = hostile.call(hub.gateway_address, method, request, prepared.metadata_for(method), cid)  # type: ignore[arg-type]
    SENT[0] += 1
    if code != grpc.StatusCode.OK:
        REFUSED.append(cid)
    if code in hostile.FORBIDDEN:  # what the hub logged of it, to say why
        print(f"--- {method.full_name} {code.name} {cid}\n{what_was_logged(hub, cid)}")  # noqa: T201
    return code


def what_was_logged(hub: Hub, cid: str) -> str:
    lines = []
    for log in hub.tmp_path.glob("*.log"):
        text = log.read_text(errors="replace")
        at = text.find(cid)
        if at >= 0:
            lines.append(f"{log.name}: {text[max(0, at - 200) : at + 3000]}")
    return "\n".join(lines) or "(nothing logged under its correlation id)"


@pytest.mark.parametrize("method", METHODS, ids=lambda m: f"{m.containing_service.name}.{m.name}")
def test_every_field_at_and_beyond_its_edges_is_answered_cleanly(
    prepared: tuple[Hub, hostile.Prepared], method: MethodDescriptor
) -> None:
    hub, state = prepared
    base = hostile.seed(method.input_type, state, hostile.today())
    problems = []
    for path, f in hostile.paths(method.input_type):
        for value in hostile.hostile_values(f, LONG):
            request = hostile.with_value(base, path, f, value)
            if request is None:
                continue
            code = send(hub, state, method, request)
            if code in hostile.FORBIDDEN:
                problems.append(f"{path}={value!r:.40}: {code.name}")
            elif (
                hostile.is_date_field(f.name)
                and value in hostile.EXTREME_DATES
                and code == grpc.StatusCode.OK
            ):
                problems.append(f"{path}={value!r}: accepted")
    assert not problems, f"{method.full_name}: " + "; ".join(problems)


@pytest.mark.parametrize("method", METHODS, ids=lambda m: f"{m.containing_service.name}.{m.name}")
def test_random_text_in_every_string_field_is_answered_cleanly(
    prepared: tuple[Hub, hostile.Prepared], method: MethodDescriptor
) -> None:
    """Hypothesis's strings (any Unicode, any length) in a random field: never UNKNOWN or INTERNAL."""
    hub, state = prepared
    base = hostile.seed(method.input_type, state, hostile.today())
    fields = [(p, f) for p, f in hostile.paths(method.input_type) if f.type == f.TYPE_STRING]
    if not fields:
        return

    @settings(
        max_examples=300 if LONG else 6,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=not LONG,
    )
    @given(index=st.integers(0, len(fields) - 1), text=st.text(max_size=300))
    def probe(index: int, text: str) -> None:
        path, f = fields[index]
        request = hostile.with_value(base, path, f, text)
        if request is not None:
            assert send(hub, state, method, request) not in hostile.FORBIDDEN, f"{path}={text!r:.60}"

    probe()


def test_negative_sizes_are_refused_naming_the_field(prepared: tuple[Hub, hostile.Prepared]) -> None:
    hub, state = prepared
    channel = grpc.insecure_channel(hub.gateway_address)
    points = riskpoint_pb2_grpc_stub(channel)
    for size in (-1, -(2**31), 10**6):
        with pytest.raises(grpc.RpcError) as refused:
            points.ListRiskPoints(  # type: ignore[attr-defined]
                riskpoint_pb2.ListRiskPointsRequest(page_size=size), metadata=state.enterprise_metadata
            )
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
        assert "page_size" in refused.value.details()  # type: ignore[attr-defined]
    channel.close()


def test_nothing_refused_left_a_trace_in_any_store(prepared: tuple[Hub, hostile.Prepared]) -> None:
    """Every refused call had its own correlation id: none of them may appear in a stored event."""
    hub, _ = prepared
    assert len(REFUSED) > 200, f"the sweep above did not run ({SENT[0]} requests)"
    refused = set(REFUSED)
    for service in SERVICES:
        app = open_store(application_class(service), hub.settings)
        for topic, cid in hostile.stored_correlation_ids(app):
            assert cid not in refused, f"{service} stored {topic}"
        app.close()
    print(f"field sweep: {SENT[0]} requests, {len(REFUSED)} refused")  # noqa: T201 - make fuzz reports it
