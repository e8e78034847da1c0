"""`hubctl demo` against the hub as `make run` starts it: a newcomer's first minutes, and the logs
they leave: few enough lines to read, no traceback, no deprecation banner."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from departments.reference.store import read_inbox
from hubctl import demo_town
from hubctl.main import app as hubctl
from services.kernel import signatures
from tests.conftest import Hub, wait_for

pytestmark = pytest.mark.e2e

ENTERPRISES = 12
LOG_BUDGET = 2000  # lines, every process together
BANNERS = ("Eventlet is deprecated", "EventletDeprecationWarning", "pkg_resources is deprecated")


def log_lines(hub: Hub) -> dict[str, list[str]]:
    return {p.stem: p.read_text(errors="replace").splitlines() for p in hub.tmp_path.glob("*.log")}


def test_demo_files_a_small_town_with_both_reference_platforms(hub: Hub, tmp_path: Path) -> None:
    env = {**hub.env, "COLUMNS": "80"}
    keys = tmp_path / "enterprise-keys"
    args = ["demo", "--enterprises", str(ENTERPRISES), "--timeout", "120", "--keys-dir", str(keys)]
    result = CliRunner().invoke(hubctl, args, env=env)
    assert result.exit_code == 0, result.output
    assert result.output.count("AJJ-TEZ acknowledged") == ENTERPRISES
    assert result.output.count("TOWN-ZSZ acknowledged") == ENTERPRISES
    # at 80 columns every name is whole and over its credit code (the names differ only at the end)
    assert max(cell_len(line) for line in result.output.splitlines()) <= 80
    for n in range(ENTERPRISES):
        assert demo_town.profile(n).unified_social_credit_code in result.output
    for code in ("AJJ-TEZ", "TOWN-ZSZ"):
        rows = read_inbox(hub.settings.runtime_dir / "platforms" / code / "inbox.sqlite")
        assert len(rows) == ENTERPRISES and all(r["outcome"] == "OUTCOME_ACCEPTED" for r in rows)
    # the enterprises' private keys are key files of their own (0600), none in the hub's folder
    files = sorted(keys.glob("*/*.pem"))
    assert len(files) == 2 * ENTERPRISES and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    assert all(f.read_text().startswith("-----BEGIN PRIVATE KEY-----") for f in files)
    secrets = [signatures.private_key_from_pem(f.read_text()).encode() for f in files]
    hub_files = [f.read_bytes() for f in hub.settings.runtime_dir.rglob("*") if f.is_file()]
    assert not [s for s in secrets if any(s in content for content in hub_files)]

    # the hub's logs: a fresh hub and a town of twelve leave a few hundred lines, none a traceback
    wait_for(lambda: sum(map(len, log_lines(hub).values())) > 0, what="the logs")
    logs = log_lines(hub)
    total = sum(len(lines) for lines in logs.values())
    text = "\n".join(line for lines in logs.values() for line in lines)
    assert total < LOG_BUDGET, {name: len(lines) for name, lines in logs.items()}
    assert "Traceback" not in text, hub.logs()
    for banner in BANNERS:
        assert banner not in text, hub.logs()

    # run again: the same town, the same keys, nothing filed twice
    before = {f: f.read_text() for f in files}
    again = CliRunner().invoke(hubctl, args, env=env)
    assert again.exit_code == 0, again.output
    rows = read_inbox(hub.settings.runtime_dir / "platforms" / "AJJ-TEZ" / "inbox.sqlite")
    assert len(rows) == ENTERPRISES
    assert {f: f.read_text() for f in sorted(keys.glob("*/*.pem"))} == before
