"""The audit log's Merkle trees (RFC 9162 with SM3), signed heads, proofs and bundles, in memory."""

from __future__ import annotations

import dataclasses
import json
import os
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest

from services.audit import bundle, chain, domain
from services.audit.application import AuditApplication
from services.audit.builder import Policy, TreeBuilder, load
from services.audit.inclusion import check_proof
from services.audit.offline import verify_bundle
from services.audit.proofs import ProofError, prove
from services.audit.timeline import history
from services.audit.verify import verify_store
from services.backbone.link_recorders import key_of
from services.kernel import merkle
from services.kernel.signatures import generate_keypair
from services.kernel.tree_heads import Anchor, TreeHead
from services.registry.application import RegistryApplication
from tests.factories import enterprise_fields


def reference_root(hashes: list[bytes]) -> bytes:
    """MTH exactly as RFC 9162 §2.1.1 writes it."""
    if len(hashes) == 1:
        return hashes[0]
    k = merkle.split(len(hashes))
    return merkle.node_hash(reference_root(hashes[:k]), reference_root(hashes[k:]))


@pytest.mark.parametrize("block", [1, 4, 8])
@pytest.mark.parametrize("shared", [False, True], ids=["alone", "memo shared across sizes"])
def test_roots_and_proofs_follow_rfc_9162_for_every_size(block: int, shared: bool) -> None:
    leaves = [merkle.leaf_hash(os.urandom(8)) for _ in range(40)]
    stranger = merkle.leaf_hash(b"not in the tree")
    memo: dict[tuple[int, int], bytes] | None = {} if shared else None
    for n in range(1, 41):
        hashes = leaves[:n]
        roots = [merkle.root(hashes[i : i + block]) for i in range(0, n - n % block, block)]
        tree = merkle.Tree(n, block, roots, lambda k, h=hashes: h[k * block : (k + 1) * block], memo)
        root = reference_root(hashes)
        frontier = merkle.Frontier()
        for h in hashes:
            frontier.append(h)
        assert merkle.root(hashes) == tree.hash(0, n) == frontier.root() == root
        for i in range(n):
            path = tree.inclusion(i)
            assert merkle.verify_inclusion(i, n, hashes[i], path, root)
            assert not merkle.verify_inclusion(i, n, stranger, path, root)
        for m in range(n + 1):
            proof = tree.consistency(m, n)
            old = reference_root(hashes[:m]) if m else merkle.EMPTY_ROOT
            assert merkle.verify_consistency(m, n, old, root, proof)
            if 0 < m < n:  # another history of the first m leaves, or another new root: refused
                assert not merkle.verify_consistency(m, n, stranger, root, proof)
                assert not merkle.verify_consistency(m, n, old, stranger, proof)


def test_a_head_verifies_only_unchanged_and_under_the_trusted_key() -> None:
    keys, other = generate_keypair(), generate_keypair()
    head = TreeHead("registry", 3, 10, "ab" * 32, 12, "2016-09-15T00:00:00+00:00", keys.public_key_hex)
    signed = head.signed(keys.private_key_hex)
    assert signed.valid_for(keys.public_key_hex) and signed.valid()
    assert not signed.valid_for(other.public_key_hex)
    for change in (
        {"tree_size": 11},
        {"root_hash": "cd" * 32},
        {"sequence": 4},
        {"store": "filing"},
        {"position": 13},
    ):
        assert not TreeHead.from_dict({**signed.as_dict(), **change}).valid()


def written_with(app: RegistryApplication) -> bytes:
    """The write-link key the store's recorder links with."""
    return key_of(app.env).write()


Built = tuple[RegistryApplication, AuditApplication, TreeBuilder, list[str]]


@pytest.fixture
def built(tmp_path: Path, monkeypatch: Any) -> Built:
    monkeypatch.setattr(domain, "BLOCK", 8)  # small blocks: proofs cross block boundaries
    registry = RegistryApplication(env={"HUB_RUNTIME_DIR": str(tmp_path)})  # in memory
    audit = AuditApplication(env={"HUB_RUNTIME_DIR": str(tmp_path)})
    builder = TreeBuilder(audit, generate_keypair(), written_with(registry), Policy(checkpoint_every=7))
    ids = []
    for n in range(1, 6):
        ids.append(registry.register(enterprise_fields(n))["enterprise_id"])
        builder.extend("registry", registry, sign_now=True)
    registry.update(ids[1], {"address": "张山子镇新区8号"})
    builder.extend("registry", registry, sign_now=True)
    return registry, audit, builder, ids


def test_heads_extend_one_another_and_the_records_rebuild_the_latest(built: Built) -> None:
    registry, audit, builder, _ = built
    heads = audit.heads("registry")
    assert [h.head.sequence for h in heads] == list(range(6))
    for previous, signed in zip(heads, heads[1:], strict=False):
        assert signed.previous_size == previous.head.tree_size
        assert merkle.verify_consistency(
            previous.head.tree_size,
            signed.head.tree_size,
            previous.head.root,
            signed.head.root,
            signed.consistency,
        )
    every = list(registry.recorder.select_notifications(start=None, limit=1000))
    assert heads[-1].head.tree_size == len(every) and heads[-1].head.position == every[-1].id
    assert merkle.root(chain.entries_and_leaves(every)[2]) == heads[-1].head.root
    state = load(audit, "registry", builder.keypair.public_key_hex)
    assert (state.size, state.position) == (len(every), every[-1].id)


def test_verify_is_clean_then_names_a_rewrite_below_an_anchor(built: Built) -> None:
    registry, audit, builder, _ = built
    key = builder.keypair.public_key_hex
    anchors = [Anchor(h.head, "AJJ-TEZ") for h in audit.heads("registry")]
    report = verify_store(audit, registry, "registry", key, written_with(registry), anchors)
    assert report.ok and report.events == report.linked == report.signed_size == report.anchored_size
    # an event's bytes changed in place (the in-memory store keeps StoredEvents in a list)
    stored = registry.recorder._stored_events  # noqa: SLF001 - a tamperer goes where the data is
    index = next(i for i, e in enumerate(stored) if i > 3 and "工业园".encode() in e.state)
    state = stored[index].state.replace("工业园".encode(), "工业区".encode())
    stored[index] = dataclasses.replace(stored[index], state=state)
    report = verify_store(audit, registry, "registry", key, written_with(registry), anchors)
    kinds = {f.kind for f in report.findings}
    assert {"altered", "unlinked", "rewritten"} <= kinds
    altered = next(f for f in report.findings if f.kind == "altered")
    assert altered.notification_id == index + 1
    rewritten = [f for f in report.findings if f.kind == "rewritten"]
    assert all(f.notification_id <= index + 1 <= f.last_id for f in rewritten)  # the range holds the event


def test_an_event_s_inclusion_proof_checks_offline_and_fails_when_anything_changes(built: Built) -> None:
    registry, audit, builder, ids = built
    for nid in (1, 9, registry.recorder.max_notification_id()):
        proof = prove(audit, registry, "registry", nid).as_dict()
        assert check_proof(proof, builder.keypair.public_key_hex).ok
    proof = prove(audit, registry, "registry", 9).as_dict()
    assert not check_proof(proof, generate_keypair().public_key_hex).ok
    changed = json.loads(json.dumps(proof))
    changed["event"]["originator_version"] += 1
    assert not check_proof(changed, builder.keypair.public_key_hex).ok
    moved = json.loads(json.dumps(proof))
    moved["leaf_index"] += 1
    assert not check_proof(moved, builder.keypair.public_key_hex).ok
    with pytest.raises(ProofError):
        prove(audit, registry, "registry", 10_000)


def test_a_bundle_verifies_alone_and_names_what_is_missing_added_or_changed(
    built: Built, tmp_path: Path
) -> None:
    registry, audit, builder, ids = built
    key = builder.keypair.public_key_hex
    events = history({"registry": registry}, uuid.UUID(ids[1]))
    assert {e.type for e in events} >= {"Enterprise.Registered", "Enterprise.ProfileUpdated"}
    out = tmp_path / "bundle.zip"
    done = bundle.export(audit, events, ids[1], builder.keypair, out)
    assert not done.warnings and done.stores["registry"]["anchors"] >= 2
    assert verify_bundle(str(out), key).ok
    anchors = [Anchor(h.head, "AJJ-TEZ") for h in audit.heads("registry")]
    assert verify_bundle(str(out), key, anchors=anchors).ok
    assert not verify_bundle(str(out), generate_keypair().public_key_hex).ok

    # a dishonest export leaves one of the enterprise's events out: the leaves still name it
    updated = next(e for e in events if e.type == "Enterprise.ProfileUpdated")
    short = tmp_path / "short.zip"
    bundle.export(audit, [e for e in events if e is not updated], ids[1], builder.keypair, short)
    problems = verify_bundle(str(short), key).problems
    assert any(f"#{updated.notification_id}" in p and "missing from the bundle" in p for p in problems)

    # one byte of someone else's leaf, or of the enterprise's event: named
    with zipfile.ZipFile(out) as z:
        members = {n: z.read(n) for n in z.namelist()}
    leaves = bytearray(members["stores/registry/leaves.bin"])
    leaves[chain.ENTRY.size * 2 + 40] ^= 1
    changed = tmp_path / "changed.zip"
    with zipfile.ZipFile(changed, "w") as z:
        for name, data in {**members, "stores/registry/leaves.bin": bytes(leaves)}.items():
            z.writestr(name, data)
    problems = verify_bundle(str(changed), key).problems
    assert any("leaves do not make the signed root" in p for p in problems)


def test_a_frontier_fed_packed_runs_has_the_roots_of_one_fed_leaf_by_leaf() -> None:
    leaves = [merkle.leaf_hash(os.urandom(8)) for _ in range(300)]
    for cuts in ([300], [1, 300], [7, 8, 9, 64, 300], [3, 5, 100, 255, 256, 257, 300]):
        packed, one_by_one, start = merkle.Frontier(), merkle.Frontier(), 0
        for cut in cuts:
            packed.extend_packed(b"".join(leaves[start:cut]))
            for h in leaves[start:cut]:
                one_by_one.append(h)
            assert packed.root() == one_by_one.root() == reference_root(leaves[:cut])
            assert packed.size == cut
            start = cut
