"""The reference department platform at its edge, as the hub's sweep does for the gateway: every field
of ReceiveFiling at and beyond its edges, random bytes as the request; never UNKNOWN or INTERNAL, and a
refused filing is not in its inbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from hub.v1 import department_pb2 as pb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from departments.reference.server import serve
from departments.reference.store import Inbox
from services.kernel import signatures
from services.kernel.canonical import sm3_hex
from tests.e2e import hostile

pytestmark = pytest.mark.integration
METHOD = pb.DESCRIPTOR.services_by_name["DepartmentPlatformService"].methods_by_name["ReceiveFiling"]


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data = tmp_path_factory.mktemp("platform")
    server, port = serve("AJJ-TEZ", "127.0.0.1:0", data)
    yield f"127.0.0.1:{port}", data
    server.stop(0).wait()


def valid_filing() -> pb.ReceiveFilingRequest:
    document = '{"enterprise":{"name":"示例化工"}}'.encode()
    keys = {role: signatures.generate_keypair() for role in ("legal_representative", "enterprise_seal")}
    return pb.ReceiveFilingRequest(
        filing=pb.Filing(
            delivery_id="0b8f5f3e-51c5-4c36-8f0e-6a8b0d2b8c11/1/AJJ-TEZ",
            department_code="AJJ-TEZ",
            enterprise=pb.FiledEnterprise(
                enterprise_id="0b8f5f3e-51c5-4c36-8f0e-6a8b0d2b8c11",
                unified_social_credit_code="91350100M000100Y43",
            ),
            version=1,
            canonical_document=document,
            document_hash=sm3_hex(document),
            signatures=[
                pb.Signature(
                    role=r,
                    public_key=k.public_key_hex,
                    signature=signatures.sign(k.private_key_hex, document),
                )
                for r, k in keys.items()
            ],
            submitted_at="2026-12-01T08:00:00+00:00",
        )
    )


def test_every_field_at_and_beyond_its_edges(platform: tuple[str, Path]) -> None:
    address, data = platform
    base, problems, refused = valid_filing(), [], []
    for path, f in hostile.paths(METHOD.input_type):
        for value in hostile.hostile_values(f, many=False):
            request = hostile.with_value(base, path, f, value)
            if request is None:
                continue
            code = hostile.call(address, METHOD, request, (), hostile.new_cid())
            if code in hostile.FORBIDDEN:
                problems.append(f"{path}={value!r:.40}: {code.name}")
            elif code != grpc.StatusCode.OK:
                refused.append(request.filing.delivery_id)  # type: ignore[attr-defined]
    assert not problems, problems
    inbox = Inbox(data / "inbox.sqlite")
    assert refused and all(inbox.seen(d) is None or d == base.filing.delivery_id for d in refused)
    inbox.close()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=st.binary(max_size=300))
def test_bytes_that_are_no_request_are_invalid_argument(platform: tuple[str, Path], raw: bytes) -> None:
    address, _ = platform
    channel = grpc.insecure_channel(address)
    try:
        channel.unary_unary(f"/{METHOD.containing_service.full_name}/{METHOD.name}")(raw, timeout=10)
    except grpc.RpcError as error:
        assert error.code() not in hostile.FORBIDDEN, error  # type: ignore[attr-defined]
    finally:
        channel.close()
