"""Two hubs on one RabbitMQ virtual host, told apart by their namespace only, never answer each other's
calls: a service's RPC queue and exchange carry the namespace (nameko names the queue after the service
alone)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.backbone.amqp import connect, raw_channel
from services.backbone.rpc import rpc_queue
from tests.conftest import ROOT, isolated_hub_settings, settings_env, wait_for

pytestmark = pytest.mark.integration


def test_two_namespaces_on_one_vhost_answer_only_their_own_calls(
    infrastructure: dict[str, str], tmp_path: Path
) -> None:
    with isolated_hub_settings(tmp_path) as shared:
        hubs = {ns: dataclasses.replace(shared, namespace=ns) for ns in ("left.", "right.")}
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "nameko",
                    "run",
                    "--config",
                    "infra/nameko.yaml",
                    "tests.integration.echo_service",
                ],
                cwd=ROOT,
                env=settings_env(settings),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for settings in hubs.values()
        ]
        try:
            conn = connect(shared.amqp_uri)
            for ns in hubs:

                def consuming(queue: str = rpc_queue(ns, "echo")) -> bool:
                    try:
                        return raw_channel(conn).queue_declare(queue, passive=True)[2] > 0
                    except Exception:  # noqa: BLE001 - not declared yet
                        return False

                wait_for(consuming, timeout=60, what=f"the echo service of {ns}")
            conn.release()
            for ns, settings in hubs.items():
                with ClusterRpcProxy(settings.nameko_config, timeout=10) as calls:
                    assert {calls.echo.who() for _ in range(20)} == {ns}
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=20)
