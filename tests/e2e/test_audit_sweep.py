"""The audit endpoint at its edge, as the gateway's sweep: every field of every method of AuditService
and TreeHeadService at and beyond its edges (Timestamps with nanos and seconds out of range, cursors,
limits), and bytes that are no request, with and without the auditors' token: never UNKNOWN or INTERNAL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from hub.v1 import audit_pb2, audit_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.audit.auth import TOKEN_HEADER
from services.audit.keys import auditor_token
from tests.conftest import Hub, isolated_hub_settings
from tests.e2e import hostile
from tests.e2e.filing_flow import Filer, setup_departments

pytestmark = pytest.mark.e2e
METHODS = [m for s in audit_pb2.DESCRIPTOR.services_by_name.values() for m in s.methods]


@pytest.fixture(scope="module")
def audited(
    infrastructure: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Hub, str]]:
    tmp: Path = tmp_path_factory.mktemp("audit-sweep")
    with isolated_hub_settings(tmp) as value:
        hub = Hub(value, tmp)
        try:
            hub.start_all()
            setup_departments(hub)
            filer = Filer.register(hub, 95)
            filer.wait_answered(filer.file())
            yield hub, auditor_token(hub.settings)
        finally:
            hub.stop()


def meta(token: str) -> tuple[tuple[str, str], ...]:
    return ((TOKEN_HEADER, token),)


@pytest.mark.parametrize("method", METHODS, ids=lambda m: f"{m.containing_service.name}.{m.name}")
def test_every_field_of_the_audit_endpoint_is_answered_cleanly(audited: tuple[Hub, str], method) -> None:  # noqa: ANN001
    hub, token = audited
    prepared = hostile.Prepared(
        enterprise_id="00000000-0000-4000-8000-000000000000",
        risk_point_id="",
        external_id="",
        danger_id="",
        case_id="",
        version=1,
        department="AJJ-TEZ",
        enterprise_metadata=meta(token),
        registration_metadata=meta(token),
    )
    base = hostile.seed(method.input_type, prepared, hostile.today())
    problems = []
    for path, f in hostile.paths(method.input_type):
        for value in hostile.hostile_values(f, many=False):
            request = hostile.with_value(base, path, f, value)
            if request is not None:
                code = hostile.call(hub.audit_address, method, request, meta(token), hostile.new_cid())
                if code in hostile.FORBIDDEN:
                    problems.append(f"{path}={value!r:.40}: {code.name}")
    assert not problems, f"{method.full_name}: {problems}"


@pytest.mark.parametrize(
    ("nanos", "seconds"),
    [(-1, 0), (1_000_000_000, 0), (0, -62_135_596_801), (0, 253_402_300_800), (0, 2**62)],
)
def test_timestamps_out_of_range_are_invalid_argument(
    audited: tuple[Hub, str], nanos: int, seconds: int
) -> None:
    hub, token = audited
    stamp = Timestamp(seconds=seconds, nanos=nanos)
    with grpc.insecure_channel(hub.audit_address) as channel:
        stub = audit_pb2_grpc.AuditServiceStub(channel)
        for call in (
            lambda: stub.GetStateAsOf(
                audit_pb2.GetStateAsOfRequest(
                    enterprise_id="00000000-0000-4000-8000-000000000000", as_of=stamp
                ),
                metadata=meta(token),
            ),
            lambda: list(
                stub.StreamEvents(audit_pb2.StreamEventsRequest(from_time=stamp), metadata=meta(token))
            ),
        ):
            with pytest.raises(grpc.RpcError) as refused:
                call()
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    raw=st.binary(min_size=1, max_size=200), with_token=st.booleans(), index=st.integers(0, len(METHODS) - 1)
)
def test_bytes_that_are_no_request_are_never_internal(
    audited: tuple[Hub, str], raw: bytes, with_token: bool, index: int
) -> None:
    hub, token = audited
    method = METHODS[index]
    path = f"/{method.containing_service.full_name}/{method.name}"
    with grpc.insecure_channel(hub.audit_address) as channel:
        try:
            call = channel.unary_stream(path) if method.server_streaming else channel.unary_unary(path)
            answer = call(raw, metadata=meta(token) if with_token else (), timeout=20)
            if method.server_streaming:
                list(answer)
        except grpc.RpcError as error:
            assert error.code() not in hostile.FORBIDDEN, (method.name, raw)  # type: ignore[attr-defined]
