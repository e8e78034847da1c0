"""`hubctl demo` against the hub as `make run` starts it: a newcomer's first minutes."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from departments.reference.store import read_inbox
from hubctl.main import app as hubctl
from tests.conftest import Hub

pytestmark = pytest.mark.e2e


def test_demo_files_a_small_town_with_both_reference_platforms(hub: Hub) -> None:
    result = CliRunner().invoke(hubctl, ["demo", "--enterprises", "4", "--timeout", "120"], env=hub.env)
    assert result.exit_code == 0, result.output
    assert result.output.count("AJJ-TEZ: acknowledged") == 4
    assert result.output.count("TOWN-ZSZ: acknowledged") == 4
    for code in ("AJJ-TEZ", "TOWN-ZSZ"):
        rows = read_inbox(hub.settings.runtime_dir / "platforms" / code / "inbox.sqlite")
        assert len(rows) == 4 and all(r["outcome"] == "OUTCOME_ACCEPTED" for r in rows)
    # run again: the same town, nothing filed twice
    again = CliRunner().invoke(hubctl, ["demo", "--enterprises", "4"], env=hub.env)
    assert again.exit_code == 0, again.output
    rows = read_inbox(hub.settings.runtime_dir / "platforms" / "AJJ-TEZ" / "inbox.sqlite")
    assert len(rows) == 4
