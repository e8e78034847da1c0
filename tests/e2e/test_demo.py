"""`hubctl demo` against the hub as `make run` starts it: a newcomer's first minutes."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from departments.reference.store import read_inbox
from hubctl.main import app as hubctl
from services.kernel import signatures
from tests.conftest import Hub

pytestmark = pytest.mark.e2e


def test_demo_files_a_small_town_with_both_reference_platforms(hub: Hub, tmp_path: Path) -> None:
    keys = tmp_path / "enterprise-keys"
    args = ["demo", "--enterprises", "4", "--timeout", "120", "--keys-dir", str(keys)]
    result = CliRunner().invoke(hubctl, args, env=hub.env)
    assert result.exit_code == 0, result.output
    assert result.output.count("AJJ-TEZ: acknowledged") == 4
    assert result.output.count("TOWN-ZSZ: acknowledged") == 4
    for code in ("AJJ-TEZ", "TOWN-ZSZ"):
        rows = read_inbox(hub.settings.runtime_dir / "platforms" / code / "inbox.sqlite")
        assert len(rows) == 4 and all(r["outcome"] == "OUTCOME_ACCEPTED" for r in rows)
    # the enterprises' private keys are key files of their own (0600), none in the hub's folder
    files = sorted(keys.glob("*/*.pem"))
    assert len(files) == 8 and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    assert all(f.read_text().startswith("-----BEGIN PRIVATE KEY-----") for f in files)
    secrets = [signatures.private_key_from_pem(f.read_text()).encode() for f in files]
    hub_files = [f.read_bytes() for f in hub.settings.runtime_dir.rglob("*") if f.is_file()]
    assert not [s for s in secrets if any(s in content for content in hub_files)]
    # run again: the same town, the same keys, nothing filed twice
    before = {f: f.read_text() for f in files}
    again = CliRunner().invoke(hubctl, [*args[:3], "--keys-dir", str(keys)], env=hub.env)
    assert again.exit_code == 0, again.output
    rows = read_inbox(hub.settings.runtime_dir / "platforms" / "AJJ-TEZ" / "inbox.sqlite")
    assert len(rows) == 4
    assert {f: f.read_text() for f in sorted(keys.glob("*/*.pem"))} == before
