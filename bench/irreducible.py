"""What a filing costs on this machine whatever the hub does, measured in the department bench's run:
a raw ReceiveFiling call straight to a platform (the caller's share alone is a gRPC client call of
the filing's payload) and SM2 checks and signatures with the hub's own functions."""

from __future__ import annotations

import subprocess
import time
from typing import Any

import grpc
from hub.v1 import department_pb2 as dpb
from hub.v1 import department_pb2_grpc

from bench.common import cpu_between, cpu_seconds
from services.kernel import receipts, signatures
from tests.e2e.filing_flow import Filer


def raw_calls(
    address: str, platform: subprocess.Popen[bytes], filing: dpb.Filing, count: int
) -> tuple[float, list[float], float, float]:
    """Sequential ReceiveFiling calls straight to one platform: calls/s, each call's latency, the CPU
    seconds a call costs the caller and the platform together (the platform's checks included), and
    the caller's share alone (a gRPC client call of this payload: the hub's irreducible part)."""
    stub = department_pb2_grpc.DepartmentPlatformServiceStub(grpc.insecure_channel(address))
    latencies = []
    before, caller = cpu_seconds({"platform": platform}), time.process_time()
    started = time.perf_counter()
    for i in range(count):
        request = dpb.ReceiveFilingRequest()
        request.filing.CopyFrom(filing)
        # a delivery of its own each time (the platform answers a repeated one from its inbox)
        request.filing.delivery_id = receipts.delivery_id(f"raw-{i}", filing.version, filing.department_code)
        t = time.perf_counter()
        stub.ReceiveFiling(request, timeout=10)
        latencies.append(time.perf_counter() - t)
    rate = count / (time.perf_counter() - started)
    client = time.process_time() - caller
    cpu = client + cpu_between(before, cpu_seconds({"platform": platform}))["platform"]
    return rate, latencies, cpu / count, client / count


def sm2_cost(filer: Filer, document: bytes, rounds: int = 200) -> tuple[float, float]:
    """Seconds per SM2 verification and per signature on this machine, with the hub's own functions on
    a filing's canonical document (this thread's CPU, measured in the same run)."""
    key = filer.keys["legal_representative"]
    signature = signatures.sign(key.private_key_hex, document)
    started = time.thread_time()
    for _ in range(rounds):
        assert signatures.verify(key.public_key_hex, document, signature)
    verify_s = (time.thread_time() - started) / rounds
    started = time.thread_time()
    for _ in range(rounds):
        signatures.sign(key.private_key_hex, document)
    return verify_s, (time.thread_time() - started) / rounds


def sample_filing(filer: Filer, compiled: Any, code: str) -> dpb.Filing:
    data = compiled.canonical_document
    return dpb.Filing(
        delivery_id="raw",
        department_code=code,
        enterprise=dpb.FiledEnterprise(enterprise_id=filer.enterprise_id),
        version=compiled.version.version,
        canonical_document=data,
        document_hash=compiled.version.document_hash,
        signatures=[
            dpb.Signature(
                role=r, public_key=k.public_key_hex, signature=signatures.sign(k.private_key_hex, data)
            )
            for r, k in filer.keys.items()
        ],
    )
