"""Logs a person can read: a client's mistake crossing a nameko RPC is one info line (the error, the
field, the correlation id), a fault of the hub keeps its traceback; no process and no hubctl command
starts with the libraries' deprecation banners."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

from services.backbone import rpc as _domain_errors  # noqa: F401 - domain errors cross intact
from services.backbone.amqp import connect, raw_channel
from services.backbone.errors import NotFoundError, ValidationError
from services.backbone.settings import Settings
from tests.conftest import NAMEKO_RUN, ROOT, cleanup, make_settings, settings_env, wait_for

pytestmark = pytest.mark.integration

BANNERS = ("Eventlet is deprecated", "EventletDeprecationWarning", "pkg_resources is deprecated")


def call(config: dict[str, object], correlation_id: str) -> ClusterRpcProxy:
    return ClusterRpcProxy(config, context_data={"correlation_id": correlation_id})


def consuming(settings: Settings, queue: str) -> bool:
    conn = connect(settings.amqp_uri)
    try:
        _, _, consumers = raw_channel(conn).queue_declare(queue, passive=True)
        return bool(consumers)
    except Exception:  # noqa: BLE001 - not declared yet
        return False
    finally:
        conn.release()


@pytest.fixture
def sqlite_settings(infrastructure: dict[str, str], tmp_path: Path) -> Iterator[Settings]:
    value = make_settings(tmp_path, "sqlite")  # the store plays no part: one backend is enough
    yield value
    cleanup(value)


def test_a_refused_rpc_is_one_line_and_a_fault_keeps_its_traceback(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    settings = sqlite_settings
    name = f"refusals_{uuid.uuid4().hex[:8]}"
    log_path = tmp_path / "service.log"
    env = {**settings_env(settings), "REFUSALS_SERVICE_NAME": name, "PYTHONWARNINGS": ""}
    args = ["-m", NAMEKO_RUN, "--config", "infra/nameko.yaml", "tests.integration.refusals_service"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_for(lambda: consuming(settings, f"rpc-{name}"), timeout=60, what="the service to start")
        config = settings.nameko_config
        with call(config, "cid-refused-1") as rpc, pytest.raises(NotFoundError):
            getattr(rpc, name).missing("e-404")
        with call(config, "cid-refused-2") as rpc, pytest.raises(ValidationError) as invalid:
            getattr(rpc, name).invalid()
        assert invalid.value.violations[1] == ("profile.name", "required")
        with call(config, "cid-broken") as rpc, pytest.raises(RemoteError):
            getattr(rpc, name).broken()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    text = log_path.read_text(errors="replace")
    refused = [line for line in text.splitlines() if "rpc_refused" in line]
    assert len(refused) == 2, text
    assert "correlation_id=cid-refused-1" in refused[0] and "field=enterprise_id" in refused[0]
    assert "error=NotFoundError" in refused[0] and "method=" in refused[0] and ".missing" in refused[0]
    assert "correlation_id=cid-refused-2" in refused[1] and "field=profile.mobile" in refused[1]
    assert all("[info" in line for line in refused)
    # the only traceback is the fault's, and nothing else mentions the refused calls
    assert text.count("Traceback") == 1, text
    assert "RuntimeError: a bug in the hub" in text
    assert text.count("e-404") == 1  # the refusal's own line, no traceback repeating it
    for banner in BANNERS:
        assert banner not in text


def test_hubctl_prints_no_banner(tmp_path: Path) -> None:
    command = ["hubctl", "--help"]  # imports every command's module, and with them nameko and eventlet
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path), "PYTHONWARNINGS": ""}
    done = subprocess.run(
        [str(Path(sys.executable).parent / command[0]), *command[1:]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    for banner in BANNERS:
        assert banner not in done.stdout
