"""Read-your-writes for the ERP: a register compiled right after a write holds it. Filing's views are
fed by the other services' events; a compile waits (boundedly) until they hold what the caller wrote,
whether the writes went through the same gateway (remembered) or another (the consistency token the
write answered with, sent back with CompileRegister). On SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from hub.v1 import enterprise_pb2, enterprise_pb2_grpc, filing_pb2, filing_pb2_grpc, riskpoint_pb2_grpc
from hub.v1 import riskpoint_pb2 as pb

from gateway.server import Gateway
from services.backbone.consistency import TOKEN_HEADER, decode, encode
from tests.conftest import Hub, isolated_hub_settings
from tests.e2e.filing_flow import setup_departments
from tests.factories import enterprise_fields
from tests.riskpoint_factories import item, item_message

pytestmark = pytest.mark.e2e
ROUNDS = 20


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def hub(
    infrastructure: dict[str, str], tmp_path_factory: pytest.TempPathFactory, request: Any
) -> Iterator[Hub]:
    tmp = tmp_path_factory.mktemp(f"ryw-{request.param}")
    with isolated_hub_settings(tmp, request.param) as value:
        running = Hub(value, tmp)
        try:
            yield running.start_all()
        finally:
            running.stop()


def register(channel: grpc.Channel, hub: Hub, n: int) -> tuple[str, list[tuple[str, str]]]:
    fields = enterprise_fields(n)
    contacts = [enterprise_pb2.Contact(**c) for c in fields.pop("contacts")]
    answer = enterprise_pb2_grpc.EnterpriseServiceStub(channel).RegisterEnterprise(
        enterprise_pb2.RegisterEnterpriseRequest(
            profile=enterprise_pb2.EnterpriseProfile(**fields, contacts=contacts)
        ),
        metadata=[("x-hub-registration-token", hub.registration_token)],
    )
    return answer.enterprise_id, [("x-hub-key-id", answer.key_id), ("x-hub-secret", answer.secret)]


def risk_point_ids(compiled: filing_pb2.CompileRegisterResponse) -> set[str]:
    return {p["external_id"] for p in json.loads(compiled.canonical_document)["risk_points"]}


def test_an_import_then_a_compile_at_once_files_what_was_imported(hub: Hub) -> None:
    setup_departments(hub)
    channel = grpc.insecure_channel(hub.gateway_address)
    _, own = register(channel, hub, 701)
    points, filings = (
        riskpoint_pb2_grpc.RiskPointServiceStub(channel),
        filing_pb2_grpc.FilingServiceStub(channel),
    )
    # right after registering: the compile waits for filing to know the enterprise (no NOT_FOUND)
    assert risk_point_ids(filings.CompileRegister(filing_pb2.CompileRegisterRequest(), metadata=own)) == set()
    expected: set[str] = set()
    for n in range(ROUNDS):
        fields = item(7000 + n)
        list(
            points.ImportRiskPoints(
                iter([pb.ImportRiskPointsRequest(items=[item_message(fields)])]), metadata=own
            )
        )
        expected.add(fields["external_id"])
        compiled = filings.CompileRegister(filing_pb2.CompileRegisterRequest(), metadata=own)
        assert risk_point_ids(compiled) == expected, f"round {n}: the compile missed the import"
    channel.close()


def test_a_compile_through_another_gateway_waits_for_the_token(hub: Hub) -> None:
    """A client spreading its calls over two gateways sends back the token its write answered with."""
    other = Gateway(hub.settings, "127.0.0.1:0", workers=4).start()
    try:
        first, second = grpc.insecure_channel(hub.gateway_address), grpc.insecure_channel(other.address)
        _, own = register(first, hub, 702)
        points = riskpoint_pb2_grpc.RiskPointServiceStub(first)
        filings = filing_pb2_grpc.FilingServiceStub(second)
        for n in range(5):
            fields = item(7100 + n)
            _, call = points.CreateRiskPoint.with_call(
                pb.CreateRiskPointRequest(risk_point=item_message(fields)), metadata=own
            )
            token = dict(call.trailing_metadata())[TOKEN_HEADER]
            # this write and the registration before it through the same gateway: the register needs both
            assert set(decode(token)) == {"registry", "riskpoints"}
            compiled = filings.CompileRegister(
                filing_pb2.CompileRegisterRequest(), metadata=[*own, (TOKEN_HEADER, token)]
            )
            assert fields["external_id"] in risk_point_ids(compiled)
        with pytest.raises(grpc.RpcError) as bad:
            filings.CompileRegister(filing_pb2.CompileRegisterRequest(), metadata=[*own, (TOKEN_HEADER, "x")])
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        first.close()
        second.close()
    finally:
        other.stop(grace=1)


def test_the_token_sent_with_a_write_is_carried_by_its_answer(hub: Hub) -> None:
    """Writes spread over two gateways: each answer covers what the token sent with it covered, so
    the last token received is the one to send back, even when the gateways never saw each other's."""
    other = Gateway(hub.settings, "127.0.0.1:0", workers=4).start()
    try:
        first, second = grpc.insecure_channel(hub.gateway_address), grpc.insecure_channel(other.address)
        _, own = register(first, hub, 703)
        fields = item(7200)
        _, call = riskpoint_pb2_grpc.RiskPointServiceStub(first).CreateRiskPoint.with_call(
            pb.CreateRiskPointRequest(risk_point=item_message(fields)), metadata=own
        )
        through_first = decode(dict(call.trailing_metadata())[TOKEN_HEADER])
        later = item(7201)
        _, call = riskpoint_pb2_grpc.RiskPointServiceStub(second).CreateRiskPoint.with_call(
            pb.CreateRiskPointRequest(risk_point=item_message(later)),
            metadata=[*own, (TOKEN_HEADER, encode(through_first))],
        )
        through_second = decode(dict(call.trailing_metadata())[TOKEN_HEADER])
        assert through_second["registry"] == through_first["registry"]  # never seen by the second gateway
        assert through_second["riskpoints"] > through_first["riskpoints"]
        compiled = filing_pb2_grpc.FilingServiceStub(first).CompileRegister(  # the first never saw `later`
            filing_pb2.CompileRegisterRequest(), metadata=[*own, (TOKEN_HEADER, encode(through_second))]
        )
        assert {fields["external_id"], later["external_id"]} <= risk_point_ids(compiled)
        refused = item(7202)
        with pytest.raises(grpc.RpcError) as bad:  # a token the hub did not give: refused before the write
            riskpoint_pb2_grpc.RiskPointServiceStub(second).CreateRiskPoint(
                pb.CreateRiskPointRequest(risk_point=item_message(refused)),
                metadata=[*own, (TOKEN_HEADER, "riskpoints:x")],
            )
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert TOKEN_HEADER in (bad.value.details() or "")
        with pytest.raises(grpc.RpcError) as missing:  # nothing was stored (the service's own store)
            riskpoint_pb2_grpc.RiskPointServiceStub(first).GetRiskPoint(
                pb.GetRiskPointRequest(external_id=refused["external_id"]),
                metadata=own,
            )
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        first.close()
        second.close()
    finally:
        other.stop(grace=1)
