"""The one mapping from what a method's body raised to what its client gets, for every shape of
method the hub serves (unary, server stream, client stream), over a real socket: a domain error is
its status with details and one `request_refused` line naming the field; a status the body chose is
kept; anything else is INTERNAL naming the correlation id. Never UNKNOWN."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from gateway.streams import grpc_stream
from services.backbone import errors
from services.backbone.edge.calls import CORRELATION_HEADER, grpc_method, grpc_server_stream
from services.backbone.edge.status import field_violations

SERVICE = "test.Edge"


def refusal() -> Exception:
    return errors.ValidationError("profile.town", "must name a town of the county")


def outcomes() -> dict[str, Callable[[grpc.ServicerContext], Any]]:
    """How a body ends, by name: each is raised (or returned) at the body's end."""

    def chosen(context: grpc.ServicerContext) -> Any:
        context.abort(grpc.StatusCode.NOT_FOUND, "no such risk point")

    def fault(context: grpc.ServicerContext) -> Any:
        raise KeyError("a fault of the hub")

    def refused(context: grpc.ServicerContext) -> Any:
        raise refusal()

    def missing(context: grpc.ServicerContext) -> Any:
        raise errors.NotFoundError("risk_point_id", "no risk point of this enterprise has this id")

    return {
        "ok": lambda context: b"done",
        "chosen": chosen,
        "fault": fault,
        "refused": refused,
        "missing": missing,
    }


class Servicer:
    """One method of each shape; the request names how the body ends."""

    @grpc_method
    def Unary(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        return outcomes()[request.decode()](context)  # type: ignore[no-any-return]

    @grpc_server_stream
    def ServerStream(self, request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
        yield b"first"  # the error comes between two answers
        yield outcomes()[request.decode()](context)

    @grpc_stream
    def ClientStream(
        self, requests: Iterator[bytes], context: grpc.ServicerContext, cid: str
    ) -> Iterator[bytes]:
        for request in requests:
            yield outcomes()[request.decode()](context)


@pytest.fixture(scope="module")
def channel() -> Iterator[grpc.Channel]:
    servicer = Servicer()
    handlers = {
        "Unary": grpc.unary_unary_rpc_method_handler(servicer.Unary),
        "ServerStream": grpc.unary_stream_rpc_method_handler(servicer.ServerStream),
        "ClientStream": grpc.stream_stream_rpc_method_handler(servicer.ClientStream),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as found:
        yield found
    server.stop(None)


def call(channel: grpc.Channel, shape: str, outcome: str, cid: str) -> list[bytes]:
    """The answers of one call; raises the call's error."""
    md = ((CORRELATION_HEADER, cid),)
    path = f"/{SERVICE}/{shape}"
    if shape == "Unary":
        return [channel.unary_unary(path)(outcome.encode(), metadata=md, timeout=10)]
    if shape == "ServerStream":
        answers: list[bytes] = []
        try:
            for answer in channel.unary_stream(path)(outcome.encode(), metadata=md, timeout=10):
                answers.append(answer)
        except grpc.RpcError as error:
            error.answers = answers  # type: ignore[attr-defined]
            raise
        return answers
    return list(channel.stream_stream(path)(iter([outcome.encode()]), metadata=md, timeout=10))


def observed(method: str, code: str) -> float:
    """Calls of `method` the gateway's latency histogram counted under `code`."""
    found = REGISTRY.get_sample_value("hub_grpc_seconds_count", {"method": method, "code": code})
    return found or 0.0


SHAPES = ["Unary", "ServerStream", "ClientStream"]


@pytest.mark.parametrize("shape", SHAPES)
def test_a_domain_error_is_its_status_with_details_and_one_line_naming_the_field(
    channel: grpc.Channel, shape: str
) -> None:
    with capture_logs() as logs, pytest.raises(grpc.RpcError) as raised:
        call(channel, shape, "refused", "cid-refused")
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(raised.value) == [("profile.town", "must name a town of the county")]
    lines = [line for line in logs if line["event"].startswith("request_")]
    assert len(lines) == 1
    assert lines[0]["event"] == "request_refused"
    assert (lines[0]["method"], lines[0]["code"], lines[0]["field"]) == (
        shape,
        "INVALID_ARGUMENT",
        "profile.town",
    )
    assert "exc_info" not in lines[0]  # a client's mistake is no traceback


@pytest.mark.parametrize("shape", SHAPES)
def test_every_kind_of_domain_error_keeps_its_own_status(channel: grpc.Channel, shape: str) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        call(channel, shape, "missing", "cid-missing")
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert "no risk point of this enterprise" in (raised.value.details() or "")


@pytest.mark.parametrize("shape", SHAPES)
def test_a_status_the_body_chose_is_kept(channel: grpc.Channel, shape: str) -> None:
    with capture_logs() as logs, pytest.raises(grpc.RpcError) as raised:
        call(channel, shape, "chosen", "cid-chosen")
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert raised.value.details() == "no such risk point"
    assert not [line for line in logs if line["event"] == "request_failed"]


@pytest.mark.parametrize("shape", SHAPES)
def test_a_fault_of_the_hub_is_internal_naming_the_correlation_id_never_unknown(
    channel: grpc.Channel, shape: str
) -> None:
    before = observed(shape, "INTERNAL")
    with capture_logs() as logs, pytest.raises(grpc.RpcError) as raised:
        call(channel, shape, "fault", f"cid-fault-{shape}")
    assert raised.value.code() == grpc.StatusCode.INTERNAL
    assert f"correlation id cid-fault-{shape}" in (raised.value.details() or "")
    failed = [line for line in logs if line["event"] == "request_failed"]
    assert len(failed) == 1 and failed[0]["method"] == shape
    assert "a fault of the hub" not in (raised.value.details() or "")  # the traceback stays in the log
    assert observed(shape, "INTERNAL") == before + 1  # timed once, under the status the client got
    if shape == "ServerStream":
        assert raised.value.answers == [b"first"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("shape", SHAPES)
def test_an_answer_comes_with_the_callers_correlation_id(channel: grpc.Channel, shape: str) -> None:
    path = f"/{SERVICE}/{shape}"
    md = ((CORRELATION_HEADER, "cid-ok"),)
    if shape == "Unary":
        _, answered = channel.unary_unary(path).with_call(b"ok", metadata=md, timeout=10)
    elif shape == "ServerStream":
        answered = channel.unary_stream(path)(b"ok", metadata=md, timeout=10)
        assert list(answered) == [b"first", b"done"]
    else:
        answered = channel.stream_stream(path)(iter([b"ok"]), metadata=md, timeout=10)
        assert list(answered) == [b"done"]
    assert dict(answered.initial_metadata())[CORRELATION_HEADER] == "cid-ok"
    assert answered.code() == grpc.StatusCode.OK
