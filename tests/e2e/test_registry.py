"""The registry through the real gateway, hubctl and broker: isolation, idempotency, validation,
routing and the lifecycle, on one hub started as `make run` starts it (shared by this module's tests)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from hub.v1 import enterprise_pb2 as pb
from hub.v1 import enterprise_pb2_grpc
from nameko.exceptions import UnknownService
from nameko.standalone.rpc import ClusterRpcProxy

from services.backbone.edge.status import field_violations
from services.backbone.errors import NotFoundError, TransitionError
from tests.conftest import ROOT, Hub, isolated_hub_settings, wait_for
from tests.factories import enterprise_fields, make_uscc

pytestmark = pytest.mark.e2e
ORDER = {"reason": "重大隐患逾期未整改", "authority": "台儿庄区应急管理局", "ordered_on": "2016-09-20"}


@pytest.fixture(scope="module")
def registry_hub(infrastructure: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    tmp = tmp_path_factory.mktemp("hub")
    with isolated_hub_settings(tmp) as settings:
        running = Hub(settings, tmp)
        try:
            running.start_all()
            with ClusterRpcProxy(settings.nameko_config) as rpc:
                wait_for(lambda: _answers(rpc), what="the registry service")
            yield running
        finally:
            running.stop()


def _answers(rpc: Any) -> bool:
    try:
        rpc.registry.routing_table()
        return True
    except UnknownService:
        return False


@pytest.fixture
def stub(registry_hub: Hub) -> Iterator[enterprise_pb2_grpc.EnterpriseServiceStub]:
    channel = grpc.insecure_channel(registry_hub.gateway_address)
    yield enterprise_pb2_grpc.EnterpriseServiceStub(channel)
    channel.close()


def profile(n: int, **overrides: Any) -> pb.EnterpriseProfile:
    fields = enterprise_fields(n, **overrides)
    contacts = [pb.Contact(**c) for c in fields.pop("contacts")]
    return pb.EnterpriseProfile(**fields, contacts=contacts)


def register(hub: Hub, stub: Any, n: int, key: str = "", **overrides: Any) -> Any:
    request = pb.RegisterEnterpriseRequest(profile=profile(n, **overrides), idempotency_key=key)
    return stub.RegisterEnterprise(request, metadata=[("x-hub-registration-token", hub.registration_token)])


def creds(answer: Any) -> list[tuple[str, str]]:
    return [("x-hub-key-id", answer.key_id), ("x-hub-secret", answer.secret)]


def refused(call: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as error:
        call()
    return error.value


def hubctl(hub: Hub, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "hubctl.main", *args], cwd=ROOT, env=hub.env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_enterprises_cannot_see_or_change_each_other(registry_hub: Hub, stub: Any) -> None:
    one, two = register(registry_hub, stub, 101), register(registry_hub, stub, 102)
    denied = refused(
        lambda: stub.GetEnterprise(
            pb.GetEnterpriseRequest(enterprise_id=two.enterprise_id), metadata=creds(one)
        )
    )
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    change = pb.UpdateEnterpriseRequest(
        enterprise_id=one.enterprise_id,
        profile=pb.EnterpriseProfile(address="别人的地址"),
        update_mask=["address"],
    )
    assert (
        refused(lambda: stub.UpdateEnterprise(change, metadata=creds(two))).code()
        == grpc.StatusCode.PERMISSION_DENIED
    )
    got = stub.GetEnterprise(pb.GetEnterpriseRequest(enterprise_id=one.enterprise_id), metadata=creds(one))
    assert got.enterprise.profile.address == profile(101).address
    assert (
        refused(lambda: stub.GetEnterprise(pb.GetEnterpriseRequest())).code()
        == grpc.StatusCode.UNAUTHENTICATED
    )
    wrong = [("x-hub-key-id", one.key_id), ("x-hub-secret", two.secret)]
    assert refused(lambda: stub.GetEnterprise(pb.GetEnterpriseRequest(), metadata=wrong)).code() == (
        grpc.StatusCode.UNAUTHENTICATED
    )


def test_a_retried_registration_gets_the_same_answer_and_a_second_one_is_refused(
    registry_hub: Hub, stub: Any
) -> None:
    first = register(registry_hub, stub, 111, key="erp-111")
    again = register(registry_hub, stub, 111, key="erp-111")
    assert (first.created, again.created) == (True, False)
    assert (again.enterprise_id, again.key_id, again.secret) == (
        first.enterprise_id,
        first.key_id,
        first.secret,
    )
    assert stub.GetEnterprise(pb.GetEnterpriseRequest(), metadata=creds(again)).enterprise.enterprise_id == (
        first.enterprise_id
    )
    other = refused(lambda: register(registry_hub, stub, 111, key="erp-other", name="另一家公司"))
    assert other.code() == grpc.StatusCode.ALREADY_EXISTS
    assert refused(lambda: register(registry_hub, stub, 111)).code() == grpc.StatusCode.ALREADY_EXISTS


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        (
            {"unified_social_credit_code": "91350100M000100Y44"},
            "profile.unified_social_credit_code",
            "check digit",
        ),
        ({"unified_social_credit_code": "91350100M0O0100Y43"}, "profile.unified_social_credit_code", "'O'"),
        ({"unified_social_credit_code": "91350100I000100Y43"}, "profile.unified_social_credit_code", "'I'"),
        ({"unified_social_credit_code": "9135010SM00100Y43V"}, "profile.unified_social_credit_code", "'S'"),
        ({"unified_social_credit_code": "91350100M000100YV3"}, "profile.unified_social_credit_code", "'V'"),
        ({"unified_social_credit_code": "91350100M000100Z43"}, "profile.unified_social_credit_code", "'Z'"),
        ({"legal_representative_mobile": "12812345678"}, "profile.legal_representative_mobile", "mobile"),
        ({"legal_representative_mobile": "1381234567"}, "profile.legal_representative_mobile", "mobile"),
    ],
)
def test_bad_input_names_the_field_and_the_rule(
    registry_hub: Hub, stub: Any, overrides: dict[str, str], field: str, words: str
) -> None:
    error = refused(lambda: register(registry_hub, stub, 120, **overrides))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert words in dict(field_violations(error))[field]


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91440300708461136T"])
def test_the_design_examples_register(registry_hub: Hub, stub: Any, code: str) -> None:
    answer = register(registry_hub, stub, 130, unified_social_credit_code=code)
    assert answer.created and answer.key_id.startswith(code)


def test_a_routing_change_reassigns_supervisors_all_the_way_to_the_filing_view(
    registry_hub: Hub, stub: Any
) -> None:
    hubctl(registry_hub, "departments", "add", "TEZ-AJ", "--name", "台儿庄区应急管理局", "--kind", "安监")
    hubctl(registry_hub, "departments", "add", "TEZ-ZJ", "--name", "台儿庄区住建局", "--kind", "住建")
    office = ["--name", "马兰屯镇安委会办公室", "--kind", "镇安委会办公室", "--town", "马兰屯镇"]
    hubctl(registry_hub, "departments", "add", "MLT-AWB", *office)
    chemical = register(registry_hub, stub, 141, town="马兰屯镇", industry="危化品")
    builder = register(registry_hub, stub, 142, town="马兰屯镇", industry="建筑")
    listed = stub.ListSupervisingDepartments(pb.ListSupervisingDepartmentsRequest(), metadata=creds(chemical))
    assert list(listed.department_codes) == ["MLT-AWB"]  # the town office, before any rule

    out = hubctl(registry_hub, "routing", "set", "危化品", "*", "TEZ-AJ", "TEZ-ZJ")
    assert "1 enterprises re-assigned" in out
    shown = json.loads(hubctl(registry_hub, "routing", "show", "--json"))
    assert shown["rules"] == [{"industry": "危化品", "town": "*", "departments": ["TEZ-AJ", "TEZ-ZJ"]}]
    expected = ["MLT-AWB", "TEZ-AJ", "TEZ-ZJ"]
    with ClusterRpcProxy(registry_hub.settings.nameko_config) as rpc:

        def view_supervisors(enterprise_id: str) -> list[str] | None:
            try:
                return list(rpc.filing.enterprise_view(enterprise_id)["supervisors"])
            except NotFoundError:
                return None

        wait_for(lambda: view_supervisors(chemical.enterprise_id) == expected, what="filing view re-assigned")
        assert view_supervisors(builder.enterprise_id) == ["MLT-AWB"]
    listed = json.loads(hubctl(registry_hub, "enterprises", "list", "--department", "TEZ-AJ", "--json"))
    assert [e["enterprise_id"] for e in listed] == [chemical.enterprise_id]
    assert _assigned_events(registry_hub, chemical.enterprise_id)[-1]["departments"] == expected


def _assigned_events(hub: Hub, enterprise_id: str) -> list[dict[str, Any]]:
    from services.backbone.relay import envelopes_after
    from services.backbone.store import open_store
    from services.registry.application import RegistryApplication

    registry = open_store(RegistryApplication, hub.settings)
    try:
        envelopes, _ = envelopes_after(registry, 0, 10000)
    finally:
        registry.close()
    return [
        e.payload
        for e in envelopes
        if e.type == "Enterprise.SupervisorsAssigned" and e.enterprise_id == enterprise_id
    ]


def test_lifecycle_orders_and_forbidden_transitions(registry_hub: Hub, stub: Any) -> None:
    answer = register(registry_hub, stub, 151)
    eid = answer.enterprise_id
    with ClusterRpcProxy(registry_hub.settings.nameko_config) as rpc:
        assert rpc.registry.suspend(eid, document_no="台应急停〔2016〕1号", **ORDER)["status"] == "suspended"
        with pytest.raises(TransitionError) as twice:
            rpc.registry.suspend(eid, document_no="台应急停〔2016〕2号", **ORDER)
        assert twice.value.current_state == "suspended"
        assert rpc.registry.resume(eid, document_no="台应急复〔2016〕1号", **ORDER)["status"] == "operating"
    out = hubctl(
        registry_hub,
        "enterprises",
        "close",
        eid,
        "--reason",
        ORDER["reason"],
        "--document-no",
        "台应急关〔2016〕1号",
        "--authority",
        ORDER["authority"],
        "--ordered-on",
        ORDER["ordered_on"],
    )
    assert "closed" in out
    got = stub.GetEnterprise(pb.GetEnterpriseRequest(), metadata=creds(answer))
    assert got.enterprise.status == pb.ENTERPRISE_STATUS_CLOSED
    change = pb.UpdateEnterpriseRequest(profile=pb.EnterpriseProfile(address="新址"), update_mask=["address"])
    closed = refused(lambda: stub.UpdateEnterprise(change, metadata=creds(answer)))
    assert closed.code() == grpc.StatusCode.FAILED_PRECONDITION and "closed" in (closed.details() or "")
    with ClusterRpcProxy(registry_hub.settings.nameko_config) as rpc:
        wait_for(lambda: rpc.filing.enterprise_view(eid)["status"] == "closed", what="filing view closed")


def test_the_readme_erp_client_runs_against_the_hub(registry_hub: Hub) -> None:
    env = {**registry_hub.env, "HUB_REGISTRATION_TOKEN": registry_hub.registration_token}
    run = [sys.executable, str(ROOT / "examples" / "erp_client.py"), make_uscc(160)]
    for created in ("True", "False"):  # running it twice is safe: the idempotency key
        done = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        assert f"(new: {created})" in done.stdout and "address changed" in done.stdout
        assert "risk point RP-001: IMPORT_ITEM_STATUS_" in done.stdout
        assert "REJECTED" not in done.stdout


def test_the_gateway_serves_tls(registry_hub: Hub, tmp_path: Path) -> None:
    from gateway.server import Gateway
    from tests.e2e.tls import self_signed

    cert, key = self_signed(tmp_path)
    settings = dataclasses.replace(registry_hub.settings, tls_cert=str(cert), tls_key=str(key))
    gateway = Gateway(settings, "127.0.0.1:0", workers=4).start()
    try:
        secure = grpc.secure_channel(gateway.address, grpc.ssl_channel_credentials(cert.read_bytes()))
        tls_stub = enterprise_pb2_grpc.EnterpriseServiceStub(secure)
        answer = register(registry_hub, tls_stub, 171)
        got = tls_stub.GetEnterprise(pb.GetEnterpriseRequest(), metadata=creds(answer))
        assert got.enterprise.profile.name == profile(171).name
        secure.close()
        plain = grpc.insecure_channel(gateway.address)
        no_tls = refused(
            lambda: enterprise_pb2_grpc.EnterpriseServiceStub(plain).GetEnterprise(
                pb.GetEnterpriseRequest(), metadata=creds(answer), timeout=10
            )
        )
        assert no_tls.code() == grpc.StatusCode.UNAVAILABLE
        plain.close()
    finally:
        gateway.stop(grace=1)
