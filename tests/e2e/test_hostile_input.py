"""Hostile input on every gateway method: random bytes and mutated messages never yield UNKNOWN or
INTERNAL, never crash the gateway, and store nothing; oversized, unauthenticated calls refused."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor
from google.protobuf.message_factory import GetMessageClass
from hub.v1 import danger_pb2, enterprise_pb2, filing_pb2, riskpoint_pb2, town_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.backbone.settings import SERVICES
from services.backbone.store import open_store
from services.backbone.stream import application_class
from tests.conftest import Hub, isolated_hub_settings
from tests.e2e import hostile
from tests.e2e.filing_flow import Filer, setup_departments

pytestmark = pytest.mark.e2e
FORBIDDEN = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL}
SERVICES_UNDER_TEST = [
    s
    for module in (enterprise_pb2, filing_pb2, riskpoint_pb2, danger_pb2, town_pb2)
    for s in module.DESCRIPTOR.services_by_name.values()
]
METHODS = [m for s in SERVICES_UNDER_TEST for m in s.methods]
REFUSED_CIDS: list[str] = []


@pytest.fixture(scope="module")
def fuzz_hub(
    infrastructure: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Hub, Any]]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    with isolated_hub_settings(tmp) as value:
        running = Hub(value, tmp)
        try:
            running.start_all()
            setup_departments(running)
            filer = Filer.register(running, 61)
            yield running, filer
        finally:
            running.stop()


def call(hub: Hub, method: MethodDescriptor, payload: bytes, metadata: tuple) -> grpc.StatusCode:
    """Sends raw bytes as the method's request; returns the status the gateway answered with."""
    channel = grpc.insecure_channel(hub.gateway_address)
    path = f"/{method.containing_service.full_name}/{method.name}"
    cid = uuid.uuid4().hex
    meta = (*metadata, ("x-correlation-id", cid))
    try:
        if method.client_streaming:
            handle = (channel.stream_stream if method.server_streaming else channel.stream_unary)(path)
            result = handle(iter([payload]), metadata=meta, timeout=20)
        else:
            handle = (channel.unary_stream if method.server_streaming else channel.unary_unary)(path)
            result = handle(payload, metadata=meta, timeout=20)
        if method.server_streaming:
            for _ in result:
                pass
        code = grpc.StatusCode.OK
    except grpc.RpcError as error:
        code = error.code()  # type: ignore[attr-defined]
    finally:
        channel.close()
    if code != grpc.StatusCode.OK:
        REFUSED_CIDS.append(cid)
    return code


def credentials(filer: Any) -> tuple:
    return (*filer.metadata, ("x-hub-department", "AJJ-TEZ"), ("x-hub-department-token", "wrong"))


def field_values(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    kinds: dict[int, st.SearchStrategy[Any]] = {
        FieldDescriptor.TYPE_STRING: st.text(max_size=40)
        | st.sampled_from(["", "1" * 200, "91350100M000100Y43"]),
        FieldDescriptor.TYPE_BYTES: st.binary(max_size=60),
        FieldDescriptor.TYPE_BOOL: st.booleans(),
        FieldDescriptor.TYPE_DOUBLE: st.floats(allow_nan=True, allow_infinity=True),
        FieldDescriptor.TYPE_FLOAT: st.floats(width=32, allow_nan=True),
        FieldDescriptor.TYPE_ENUM: st.integers(min_value=-3, max_value=20),
    }
    return kinds.get(field.type, st.integers(min_value=-(2**31), max_value=2**31 - 1))


@st.composite
def mutated(draw: Any, message_descriptor: Any, depth: int = 0) -> Any:
    """A message of the right type with random values in random fields."""
    message = GetMessageClass(message_descriptor)()
    for field in message_descriptor.fields:
        if not draw(st.booleans()):
            continue
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if depth > 2 or field.message_type.GetOptions().map_entry:
                continue
            sub = draw(mutated(field.message_type, depth + 1))
            if field.is_repeated:
                getattr(message, field.name).append(sub)
            else:
                getattr(message, field.name).CopyFrom(sub)
            continue
        value = draw(field_values(field))
        try:
            if field.is_repeated:
                getattr(message, field.name).append(value)
            else:
                setattr(message, field.name, value)
        except (ValueError, TypeError):
            continue
    return message


@pytest.mark.parametrize("method", METHODS, ids=lambda m: f"{m.containing_service.name}.{m.name}")
def test_random_bytes_and_mutated_messages_are_refused_cleanly(
    fuzz_hub: tuple[Hub, Any], method: MethodDescriptor
) -> None:
    hub, filer = fuzz_hub
    meta = credentials(filer)

    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(raw=st.binary(max_size=200), message=mutated(method.input_type))
    def probe(raw: bytes, message: Any) -> None:
        assert call(hub, method, raw, meta) not in FORBIDDEN
        assert call(hub, method, message.SerializeToString(), meta) not in FORBIDDEN

    probe()


def test_unauthenticated_calls_are_refused(fuzz_hub: tuple[Hub, Any]) -> None:
    hub, _ = fuzz_hub
    for method in METHODS:
        empty = GetMessageClass(method.input_type)().SerializeToString()
        code = call(hub, method, empty, ())
        assert code == grpc.StatusCode.UNAUTHENTICATED, f"{method.full_name} answered {code}"


def test_oversized_messages_are_refused_with_a_clear_status(fuzz_hub: tuple[Hub, Any]) -> None:
    hub, filer = fuzz_hub
    method = enterprise_pb2.DESCRIPTOR.services_by_name["EnterpriseService"].methods_by_name[
        "UpdateEnterprise"
    ]
    huge = enterprise_pb2.UpdateEnterpriseRequest(
        profile=enterprise_pb2.EnterpriseProfile(address="x" * (9 << 20))
    )
    assert call(hub, method, huge.SerializeToString(), filer.metadata) == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_nothing_refused_left_a_trace_in_any_store(fuzz_hub: tuple[Hub, Any]) -> None:
    """Every refused call had its own correlation id: none of them may appear in a stored event."""
    hub, _ = fuzz_hub
    assert len(REFUSED_CIDS) > 100, "the fuzz tests above did not run"
    refused = set(REFUSED_CIDS)
    for service in SERVICES:
        try:
            app = open_store(application_class(service), hub.settings)
        except LookupError:
            continue
        for topic, cid in hostile.stored_correlation_ids(app):
            assert cid not in refused, f"{service} stored {topic}"
        app.close()


def test_refused_calls_left_no_traceback_in_any_log(fuzz_hub: tuple[Hub, Any]) -> None:
    """A client's mistake is one line in a log (request_refused, rpc_refused), never a traceback."""
    hub, _ = fuzz_hub
    assert len(REFUSED_CIDS) > 100, "the fuzz tests above did not run"
    logs = {p.name: p.read_text(errors="replace") for p in hub.tmp_path.glob("*.log")}
    assert not [name for name, text in logs.items() if "Traceback" in text], hub.logs()
    refused_lines = sum(t.count("request_refused") + t.count("rpc_refused") for t in logs.values())
    assert refused_lines > 0
