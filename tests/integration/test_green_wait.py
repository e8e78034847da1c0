"""psycopg in a nameko service (eventlet) waits on PostgreSQL's socket for at most SPIN_MS, then through
eventlet's hub: a query that answers at once costs no trip through the hub, and a long one never
holds the service's other green threads up (services/backbone/green_wait.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from services.backbone import green_wait
from services.backbone.rpc import rpc_queue
from services.backbone.rpc_client import Services
from tests.conftest import NAMEKO_RUN, PG_URL, ROOT, cleanup, make_settings, settings_env, wait_for
from tests.integration.test_quiet_logs import consuming

pytestmark = pytest.mark.integration

PROBE = textwrap.dedent(
    """
    from services.backbone import nameko_run
    nameko_run.patch_eventlet()  # as a service starts, before its modules are imported
    import json, sys, time
    import eventlet
    import psycopg
    from psycopg import waiting
    from services.backbone import green_wait

    hub_switches = 0
    hub = eventlet.hubs.get_hub()
    switch = hub.switch
    def counted():
        global hub_switches
        hub_switches += 1
        return switch()
    hub.switch = counted

    conn = psycopg.connect(sys.argv[1], autocommit=True)
    conn.execute("SELECT 1")
    before = hub_switches
    for _ in range(200):
        conn.execute("SELECT 1").fetchone()
    quick = hub_switches - before

    ticks = []
    def ticker():
        while len(ticks) < 1000:
            ticks.append(time.monotonic())
            eventlet.sleep(0.01)
    eventlet.spawn(ticker)
    eventlet.sleep(0)
    started = time.monotonic()
    conn.execute("SELECT pg_sleep(0.5)")
    slept = time.monotonic() - started
    during = [t for t in ticks if started <= t <= started + slept]
    gaps = [b - a for a, b in zip(during, during[1:])]
    print(json.dumps({
        "installed": waiting.wait.__module__ == green_wait.__name__,
        "quick_switches": quick,
        "ticks": len(during),
        "longest_gap": max(gaps, default=slept),
        "spin_ms": green_wait.SPIN_MS,
    }))
    """
)


def probe(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_a_quick_query_waits_on_the_socket_and_a_long_one_lets_green_threads_run(
    infrastructure: dict[str, str],
) -> None:
    found = probe(PG_URL)
    assert found["installed"]
    # 200 queries answered within SPIN: next to no trips through the hub (psycopg's green select()
    # made at least one per query)
    assert found["quick_switches"] < 20
    # a half-second query: the ticker (every 10 ms) kept running, never held up for long
    assert found["ticks"] >= 20
    assert found["longest_gap"] < 0.1


def test_a_process_without_eventlet_keeps_psycopg_s_own_wait() -> None:
    code = (
        "import services; from psycopg import waiting; from services.backbone import green_wait; "
        "print(waiting.wait.__module__, green_wait.install())"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    module, installed = done.stdout.split()
    assert module.startswith("psycopg") and installed == "False"


def test_a_service_answers_while_another_of_its_calls_waits_for_a_long_query(
    infrastructure: dict[str, str], tmp_path: Path
) -> None:
    """The service as the Procfile runs it (services.backbone.nameko_run): psycopg had picked its blocking
    C wait there, so a ping waited for any query in flight (FIELD_NOTES: 1.7 s behind a 2 s query)."""
    settings = make_settings(tmp_path, "sqlite")
    name = f"slow_{uuid.uuid4().hex[:8]}"
    env = {**settings_env(settings), "SLOW_QUERY_SERVICE_NAME": name, "SLOW_QUERY_DATABASE_URL": PG_URL}
    args = ["-m", NAMEKO_RUN, "--config", "infra/nameko.yaml", "tests.integration.slow_query_service"]
    with open(tmp_path / "service.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    services = Services(settings)
    order: list[str] = []
    try:
        wait_for(
            lambda: consuming(settings, rpc_queue(settings.namespace, name)), timeout=60, what="the service"
        )
        assert services.call(name, "wait_function") == f"{green_wait.__name__}._waiter.<locals>.wait"

        def slow() -> None:
            slow_services = Services(settings)  # a proxy per thread
            try:
                order.append(slow_services.call(name, "slow", 2.0))
            finally:
                slow_services.close()

        thread = threading.Thread(target=slow)
        thread.start()
        time.sleep(0.5)  # the query is running
        order.append(services.call(name, "ping"))
        thread.join(timeout=30)
    finally:
        services.close()
        proc.terminate()
        proc.wait(timeout=30)
        cleanup(settings)
    assert order == ["pong", "slept"]
