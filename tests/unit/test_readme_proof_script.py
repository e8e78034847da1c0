"""The README's proof checker (examples/check_proof.py: hashlib, no hub code) agrees with
`hubctl audit verify-proof`: it passes the hub's proofs and fails changed ones."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from services.audit import domain
from services.audit.application import AuditApplication
from services.audit.builder import Policy, TreeBuilder
from services.audit.inclusion import check_proof
from services.audit.proofs import prove
from services.backbone.link_recorders import key_of
from services.kernel.signatures import generate_keypair
from services.registry.application import RegistryApplication
from tests.factories import enterprise_fields

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "check_proof.py"


def test_readme_shows_the_script_verbatim_and_it_is_short() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Checking a proof without the hub", 1)[1].split("\n### ", 1)[0]
    assert re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL) == [
        SCRIPT.read_text(encoding="utf-8")
    ]
    assert len(SCRIPT.read_text(encoding="utf-8").splitlines()) <= 70


def run(proof: dict[str, Any], key: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(proof), encoding="utf-8")
    return subprocess.run(  # a bare interpreter: no hub code on the path
        [sys.executable, "-I", str(SCRIPT), str(path), key], capture_output=True, text=True, timeout=60
    )


def test_the_script_passes_the_hub_s_proofs_and_fails_changed_ones(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(domain, "BLOCK", 8)
    registry = RegistryApplication(env={"HUB_RUNTIME_DIR": str(tmp_path)})
    audit = AuditApplication(env={"HUB_RUNTIME_DIR": str(tmp_path)})
    builder = TreeBuilder(audit, generate_keypair(), key_of(registry.env).write(), Policy())
    for n in range(1, 5):
        registry.register(enterprise_fields(n))
    builder.extend("registry", registry, sign_now=True)
    key = builder.keypair.public_key_hex
    last = registry.recorder.max_notification_id() or 0
    for nid in (1, 7, last):
        proof = prove(audit, registry, "registry", nid).as_dict()
        assert check_proof(proof, key).ok
        done = run(proof, key, tmp_path)
        assert done.returncode == 0 and "in the tree True, head signed by the key True" in done.stdout, done
    proof = prove(audit, registry, "registry", 7).as_dict()
    for change in (
        lambda p: p["event"].update(topic=p["event"]["topic"] + "x"),
        lambda p: p.update(leaf_index=p["leaf_index"] + 1),
        lambda p: p["tree_head"].update(tree_size=p["tree_head"]["tree_size"] + 1),
        lambda p: p["audit_path"].reverse(),
    ):
        changed = json.loads(json.dumps(proof))
        change(changed)
        assert run(changed, key, tmp_path).returncode == 1 and not check_proof(changed, key).ok
    other = generate_keypair().public_key_hex
    assert run(proof, other, tmp_path).returncode == 1


@pytest.mark.parametrize("signature", ["00" * 64, "ff" * 64])
def test_the_script_s_sm2_refuses_a_signature_out_of_range(signature: str, tmp_path: Path) -> None:
    key = generate_keypair().public_key_hex
    head = {"store": "registry", "sequence": 0, "tree_size": 1, "root_hash": "00" * 32, "position": 1}
    proof = {
        "store": "registry",
        "event": {
            "notification_id": 1,
            "originator_id": str(uuid_of(1)),
            "originator_version": 1,
            "topic": "t",
            "state": "",
        },
        "leaf_index": 0,
        "tree_head": {
            **head,
            "signed_at": "2026-01-01T00:00:00+00:00",
            "public_key": key,
            "signature": signature,
        },
        "audit_path": [],
    }
    assert run(proof, key, tmp_path).returncode == 1


def uuid_of(n: int) -> Any:
    import uuid

    return uuid.UUID(int=n)
