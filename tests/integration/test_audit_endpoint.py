"""Auditors' access on real PostgreSQL: offline bundles and the read-only gRPC endpoint."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
from hub.v1 import audit_pb2, audit_pb2_grpc

from services.audit.application import AuditApplication
from services.audit.keys import audit_public_key, auditor_token
from services.audit.server import AuditServer
from services.backbone.settings import Settings
from services.backbone.store import open_store
from services.kernel import merkle
from services.kernel.tree_heads import head_from_message
from services.registry.application import RegistryApplication
from tests.conftest import ROOT
from tests.factories import enterprise_fields
from tests.integration.test_audit import chain_all, hubctl

pytestmark = pytest.mark.integration
OFFLINE_ENV = {  # nothing answers on port 9: a bundle check that needed the hub would fail
    "PATH": "/usr/bin:/bin",
    "PYTHONPATH": str(ROOT),
    "HUB_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none",
    "HUB_AMQP_URI": "amqp://nobody:nothing@127.0.0.1:9//",
}


def offline_check(bundle: Path, key: str) -> subprocess.CompletedProcess[str]:
    """verify-bundle in a process that can reach neither a database nor a broker."""
    return subprocess.run(
        [sys.executable, "-m", "services.audit.offline", str(bundle), "--public-key", key],
        cwd=ROOT,
        env=OFFLINE_ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )


def rewrite(bundle: Path, name: str, change: bytes, to: bytes) -> Path:
    with zipfile.ZipFile(bundle) as z:
        members = {n: z.read(n) for n in z.namelist()}
    assert change in members[name]
    members[name] = members[name].replace(change, to, 1)
    changed = bundle.with_name(f"changed-{bundle.name}")
    with zipfile.ZipFile(changed, "w") as z:
        for member, data in members.items():
            z.writestr(member, data)
    return changed


@pytest.fixture
def enterprises(pg_settings: Settings) -> list[str]:
    registry = open_store(RegistryApplication, pg_settings)
    ids = [registry.register(enterprise_fields(n))["enterprise_id"] for n in range(1, 5)]
    registry.update(ids[1], {"address": "张山子镇新区7号"})
    registry.close()
    return ids


def test_an_exported_bundle_verifies_offline_and_fails_after_one_byte_changes(
    pg_settings: Settings, enterprises: list[str], tmp_path: Path
) -> None:
    eid, bundle = enterprises[1], tmp_path / "bundle.zip"
    exported = hubctl(pg_settings, "export", "--enterprise", eid, "--out", str(bundle))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    key = audit_public_key(pg_settings)
    good = offline_check(bundle, key)
    assert good.returncode == 0 and "OK" in good.stdout, good.stdout + good.stderr

    changed = rewrite(bundle, "stores/registry/events.jsonl", "新区7号".encode(), "新区1号".encode())
    bad = offline_check(changed, key)
    # the content an encrypted store's event carries is what its own key opens from its stored bytes
    assert bad.returncode == 1 and "(changed)" in bad.stdout, bad.stdout
    other_key = offline_check(bundle, key[:-2] + ("00" if key[-2:] != "00" else "01"))
    assert other_key.returncode == 1

    cli = hubctl(pg_settings, "verify-bundle", str(bundle), "--public-key", key)
    assert cli.returncode == 0, cli.stdout


@pytest.fixture
def endpoint(pg_settings: Settings) -> Iterator[tuple[Any, list[tuple[str, str]]]]:
    server = AuditServer(pg_settings, "127.0.0.1:0", workers=4).start()
    channel = grpc.insecure_channel(server.address)
    try:
        yield channel, [("x-hub-auditor-token", auditor_token(pg_settings))]
    finally:
        channel.close()
        server.stop(grace=1)


def heads(settings: Settings) -> dict[str, int]:
    found = {}
    for app_class in (RegistryApplication, AuditApplication):
        app = open_store(app_class, settings)
        found[app_class.service] = app.recorder.max_notification_id() or 0
        app.close()
    return found


def test_auditors_read_through_grpc_and_nothing_can_write(
    pg_settings: Settings, enterprises: list[str], endpoint: Any
) -> None:
    channel, auditor = endpoint
    stub = audit_pb2_grpc.AuditServiceStub(channel)
    chain_all(pg_settings)
    before = heads(pg_settings)
    eid = enterprises[1]

    for metadata in ((), (("x-hub-auditor-token", "guess"),)):
        with pytest.raises(grpc.RpcError) as refused:
            list(stub.StreamEvents(audit_pb2.StreamEventsRequest(), metadata=metadata))
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(grpc.RpcError) as refused:
            stub.Verify(audit_pb2.VerifyRequest(), metadata=metadata)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    methods = {m.name for m in audit_pb2.DESCRIPTOR.services_by_name["AuditService"].methods}
    assert methods == {"StreamEvents", "GetStateAsOf", "Verify"}
    append = channel.unary_unary("/hub.v1.AuditService/AppendEvent")
    with pytest.raises(grpc.RpcError) as missing:
        append(b"", metadata=auditor)
    assert missing.value.code() == grpc.StatusCode.UNIMPLEMENTED

    request = audit_pb2.StreamEventsRequest(enterprise_id=eid)
    everything = list(stub.StreamEvents(request, metadata=auditor))
    types = [r.event.type for r in everything]
    assert types[0] == "Enterprise.Registered" and "Enterprise.ProfileUpdated" in types
    assert {r.event.service for r in everything} == {"registry"}
    limited = audit_pb2.StreamEventsRequest(enterprise_id=eid, limit=2)
    first_two = list(stub.StreamEvents(limited, metadata=auditor))
    rest = list(
        stub.StreamEvents(
            audit_pb2.StreamEventsRequest(enterprise_id=eid, cursor=first_two[-1].cursor), metadata=auditor
        )
    )
    assert [r.event.digest for r in first_two + rest] == [r.event.digest for r in everything]
    updates = list(
        stub.StreamEvents(
            audit_pb2.StreamEventsRequest(event_types=["Enterprise.ProfileUpdated"]), metadata=auditor
        )
    )
    assert [r.event.enterprise_id for r in updates] == [eid]

    as_of = audit_pb2.GetStateAsOfRequest(enterprise_id=eid)
    as_of.as_of.FromDatetime(datetime.now(UTC))
    state = stub.GetStateAsOf(as_of, metadata=auditor)
    enterprise = next(a for a in state.aggregates if a.aggregate_type == "Enterprise")
    assert "张山子镇新区7号" in enterprise.state_json
    with pytest.raises(grpc.RpcError) as invalid:
        stub.GetStateAsOf(audit_pb2.GetStateAsOfRequest(enterprise_id="nope"), metadata=auditor)
    assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    verified = stub.Verify(audit_pb2.VerifyRequest(services=["registry"]), metadata=auditor)
    store = verified.stores[0]
    assert verified.ok and store.signed_size == store.events == store.linked_events > 0
    assert store.store_position == before["registry"]
    assert heads(pg_settings) == before, "reading changed a store"


def test_anyone_holding_a_head_gets_the_latest_and_the_proof_that_it_extends_theirs(
    pg_settings: Settings, enterprises: list[str], endpoint: Any
) -> None:
    channel, _ = endpoint
    chain_all(pg_settings)
    monitor = audit_pb2_grpc.TreeHeadServiceStub(channel)  # no token: hashes and sizes only
    first = head_from_message(
        monitor.GetLatestTreeHead(audit_pb2.GetLatestTreeHeadRequest(store="registry")).head
    )
    registry = open_store(RegistryApplication, pg_settings)
    registry.register(enterprise_fields(9))
    registry.close()
    chain_all(pg_settings)
    latest = head_from_message(
        monitor.GetLatestTreeHead(audit_pb2.GetLatestTreeHeadRequest(store="registry")).head
    )
    assert latest.valid_for(audit_public_key(pg_settings)) and latest.tree_size > first.tree_size
    request = audit_pb2.GetConsistencyProofRequest(
        store="registry", first_size=first.tree_size, second_size=latest.tree_size
    )
    proof = [bytes.fromhex(h) for h in monitor.GetConsistencyProof(request).proof]
    assert merkle.verify_consistency(first.tree_size, latest.tree_size, first.root, latest.root, proof)
    for bad, code in (
        (
            audit_pb2.GetConsistencyProofRequest(store="nowhere", first_size=1, second_size=2),
            "INVALID_ARGUMENT",
        ),
        (
            audit_pb2.GetConsistencyProofRequest(store="registry", first_size=3, second_size=2),
            "INVALID_ARGUMENT",
        ),
        (
            audit_pb2.GetConsistencyProofRequest(store="registry", first_size=1, second_size=10**6),
            "NOT_FOUND",
        ),
    ):
        with pytest.raises(grpc.RpcError) as refused:
            monitor.GetConsistencyProof(bad)
        assert refused.value.code().name == code
