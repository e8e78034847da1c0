"""`hubctl status` before the hub's first start (or from the wrong folder) says there is no store,
instead of showing an empty one that the look itself created."""

from __future__ import annotations

import json

import psycopg
import pytest
from typer.testing import CliRunner

from hubctl.main import app as hubctl
from services.backbone.settings import SERVICES, Settings
from tests.conftest import PG_URL, settings_env

pytestmark = pytest.mark.integration


def test_status_of_a_hub_never_started_creates_nothing(settings: Settings, backend: str) -> None:
    result = CliRunner().invoke(hubctl, ["status", "--json"], env=settings_env(settings))
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["processes"] == []
    # every service's store, and the console's read model (a consumer that publishes nothing)
    assert {s for s in data if s != "processes"} == {*SERVICES, "console"}
    assert all(not data[s]["exists"] and data[s]["head"] == 0 for s in (*SERVICES, "console"))
    table = CliRunner().invoke(hubctl, ["status"], env={**settings_env(settings), "COLUMNS": "80"})
    assert table.output.count("(no store yet)") == len(SERVICES)
    if backend == "sqlite":
        assert list(settings.runtime_dir.glob("*.sqlite")) == []
    else:
        with psycopg.connect(PG_URL) as conn:
            schemas = conn.execute(
                "SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE %s",
                (settings.namespace.replace(".", "_") + "%",),
            ).fetchone()
        assert schemas == (0,)
