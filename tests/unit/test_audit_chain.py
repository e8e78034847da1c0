"""The audit chain's arithmetic, signed checkpoints and offline bundles, on in-memory stores."""

from __future__ import annotations

import json
import uuid
import zipfile
from pathlib import Path

import pytest

from services.audit import chain
from services.audit.application import AuditApplication
from services.audit.bundle import export
from services.audit.chainer import Chainer, Policy
from services.audit.checkpoint import Checkpoint
from services.audit.offline import verify_bundle
from services.audit.timeline import history, state_as_of
from services.kernel.signatures import generate_keypair
from services.registry.application import RegistryApplication
from tests.factories import enterprise_fields

OID = "5d0c7a7e-8a57-4b3c-9f0f-2f8f7d0f1a01"


def test_an_event_digest_covers_every_field_and_cannot_be_shifted_between_them() -> None:
    base = chain.event_digest(OID, 1, "m:A.B", b"{}")
    assert chain.event_digest(OID, 2, "m:A.B", b"{}") != base
    assert chain.event_digest(OID, 1, "m:A.C", b"{}") != base
    assert chain.event_digest(OID, 1, "m:A.B", b"{ }") != base
    assert chain.event_digest(OID.replace("5d", "5e"), 1, "m:A.B", b"{}") != base
    # Length prefixes: moving bytes from the topic into the state changes the digest.
    assert chain.event_digest(OID, 1, "m:A.Bx", b"y") != chain.event_digest(OID, 1, "m:A.B", b"xy")


def test_links_depend_on_order_position_and_store() -> None:
    a, b = chain.event_digest(OID, 1, "t", b"a"), chain.event_digest(OID, 2, "t", b"b")
    start = chain.genesis("registry")
    forward = chain.next_link(chain.next_link(start, 1, a), 2, b)
    assert chain.next_link(chain.next_link(start, 1, b), 2, a) != forward
    assert chain.next_link(chain.next_link(start, 1, a), 3, b) != forward
    assert chain.genesis("filing") != start
    packed = chain.pack_entries([chain.Entry(1, OID, 1, a), chain.Entry(2, OID, 2, b)])
    assert chain.link_through(start, packed) == forward
    assert [e.digest for e in chain.unpack_entries(packed)] == [a, b]


def test_a_checkpoint_verifies_only_unchanged_and_under_the_trusted_key() -> None:
    keys, other = generate_keypair(), generate_keypair()
    stamp = "2016-09-15T00:00:00+00:00"
    checkpoint = Checkpoint("registry", 0, 10, 10, "ab" * 32, stamp, keys.public_key_hex)
    signed = checkpoint.signed(keys.private_key_hex)
    assert signed.valid_for(keys.public_key_hex)
    assert not signed.valid_for(other.public_key_hex)
    moved = Checkpoint.from_dict({**signed.as_dict(), "position": 11})
    assert not moved.valid_for(keys.public_key_hex)
    forged = Checkpoint.from_dict({**checkpoint.as_dict(), "public_key": other.public_key_hex})
    assert not forged.signed(other.private_key_hex).valid_for(keys.public_key_hex)


Chained = tuple[RegistryApplication, AuditApplication, Chainer, list[str]]


@pytest.fixture
def chained(tmp_path: Path) -> Chained:
    registry = RegistryApplication(env={"HUB_RUNTIME_DIR": str(tmp_path)})  # in memory
    ids = [registry.register(enterprise_fields(n))["enterprise_id"] for n in range(1, 6)]
    registry.update(ids[1], {"address": "张山子镇新区8号"})
    audit = AuditApplication()
    chainer = Chainer(audit, generate_keypair(), Policy(segment_size=4, checkpoint_every=6))
    chainer.extend("registry", registry, checkpoint_now=True)
    return registry, audit, chainer, ids


def _rewrite(bundle: Path, name: str, change: bytes, to: bytes) -> None:
    with zipfile.ZipFile(bundle) as z:
        members = {n: z.read(n) for n in z.namelist()}
    assert change in members[name]
    members[name] = members[name].replace(change, to, 1)
    with zipfile.ZipFile(bundle, "w") as z:
        for member, data in members.items():
            z.writestr(member, data)


def test_a_bundle_verifies_alone_and_fails_when_one_byte_changes(chained: Chained, tmp_path: Path) -> None:
    registry, audit, chainer, ids = chained
    events = history({"registry": registry}, uuid.UUID(ids[1]))
    assert {e.type for e in events} >= {"Enterprise.Registered", "Enterprise.ProfileUpdated"}
    out = tmp_path / "bundle.zip"
    done = export(audit, events, ids[1], chainer.keypair, out)
    head = registry.recorder.max_notification_id()
    assert done.stores["registry"]["records"] == head and not done.warnings
    assert verify_bundle(str(out), chainer.keypair.public_key_hex).ok
    assert not verify_bundle(str(out), generate_keypair().public_key_hex).ok

    _rewrite(out, "stores/registry/events.jsonl", "新区8号".encode(), "新区9号".encode())
    report = verify_bundle(str(out), chainer.keypair.public_key_hex)
    updated = next(e for e in events if e.type == "Enterprise.ProfileUpdated")
    assert any(f"registry #{updated.notification_id}" in p for p in report.problems)


def test_a_bundle_with_one_chain_byte_changed_fails(chained: Chained, tmp_path: Path) -> None:
    registry, audit, chainer, ids = chained
    out = tmp_path / "bundle.zip"
    export(audit, history({"registry": registry}, uuid.UUID(ids[0])), ids[0], chainer.keypair, out)
    with zipfile.ZipFile(out) as z:
        records = bytearray(z.read("stores/registry/chain.bin"))
    original = bytes(records)
    records[chain.RECORD.size * 3 + 9] ^= 1  # one bit of a digest of someone else's event
    _rewrite(out, "stores/registry/chain.bin", original, bytes(records))
    problems = verify_bundle(str(out), chainer.keypair.public_key_hex).problems
    assert any("chain.bin" in p for p in problems) and any("registry #" in p for p in problems)


def test_state_as_of_replays_only_the_enterprise_s_own_aggregates(chained: Chained) -> None:
    registry, _audit, _chainer, ids = chained
    events = history({"registry": registry}, uuid.UUID(ids[1]))
    registered = next(e for e in events if e.type == "Enterprise.Registered")
    states = state_as_of({"registry": registry}, uuid.UUID(ids[1]), registered.occurred_at, events=events)
    enterprise = next(s for s in states if s.aggregate_type == "Enterprise")
    assert enterprise.version == 1 and enterprise.state["address"] == "张山子镇工业园2号"
    latest = state_as_of({"registry": registry}, uuid.UUID(ids[1]), events[-1].occurred_at, events=events)
    assert next(s for s in latest if s.aggregate_type == "Enterprise").state["address"] == "张山子镇新区8号"
    assert all(s.aggregate_type != "EnterpriseIndex" for s in latest)  # shared, named but not owned
    assert json.dumps([s.state for s in latest], ensure_ascii=False)
