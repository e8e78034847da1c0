"""`make run`'s own start, as a newcomer meets it: honcho and the Procfile on a fresh runtime folder with
the default SQLite stores, twice in a row. Every process comes up and stays up (no two processes racing
to create one store's tables, issue 23), the gateway, the audit endpoint and the console answer, Ctrl-C
stops everything, and the output holds no traceback and no deprecation banner."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.backbone import metrics
from tests.conftest import ROOT, Hub, isolated_hub_settings, procfile, wait_for

pytestmark = pytest.mark.e2e

BANNERS = ("Traceback", "EventletDeprecationWarning", "pkg_resources is deprecated", "exited with code")


def serving(address: str) -> bool:
    with grpc.insecure_channel(address) as channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
        except grpc.RpcError:
            return False
    return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)


def console_answers(address: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{address}/login", timeout=2) as response:  # noqa: S310
            return bool(response.status == 200 and "安全监管工作台" in response.read().decode("utf-8"))
    except OSError:
        return False


@pytest.mark.parametrize("round_", [1, 2])
def test_make_run_starts_every_process_on_a_fresh_folder_and_stops_on_ctrl_c(
    infrastructure: dict[str, str], tmp_path: Path, round_: int
) -> None:
    with isolated_hub_settings(tmp_path, backend="sqlite") as settings:
        hub = Hub(settings, tmp_path)  # its ports and namespace; started here by honcho, as make run does
        env = {**hub.env, "HUB_DATABASE_URL": ""}
        out = tmp_path / "honcho.out"
        with out.open("wb") as sink:
            honcho = subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "honcho"), "-f", "infra/Procfile", "-d", ".", "start"],
                cwd=ROOT,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                wait_for(lambda: serving(hub.gateway_address), timeout=180, what="the gateway")
                wait_for(lambda: serving(hub.audit_address), timeout=60, what="the audit endpoint")
                wait_for(lambda: console_answers(hub.console_address), timeout=60, what="the console")
                expected = sum(1 for c in procfile().values() if "HUB_METRICS_PORT" in c)
                wait_for(
                    lambda: len(metrics.announced(settings)) == expected,
                    timeout=60,
                    what=f"all {expected} processes to announce their metrics",
                )
                time.sleep(5)  # and they stay up: a late race would stop honcho and every process now
                assert honcho.poll() is None, out.read_text(errors="replace")[-3000:]
            finally:
                os.killpg(honcho.pid, signal.SIGINT)  # Ctrl-C
                try:
                    code = honcho.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(honcho.pid, signal.SIGKILL)
                    raise
        text = out.read_text(errors="replace")
        assert code in (0, 130, -signal.SIGINT), text[-3000:]
        for banner in BANNERS:
            assert banner not in text, text[-3000:]
        assert sorted(p.name for p in settings.runtime_dir.glob("*.sqlite"))  # the stores were made
