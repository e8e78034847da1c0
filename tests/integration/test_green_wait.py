"""psycopg in a nameko service (eventlet) waits on PostgreSQL's socket for at most SPIN, then through
eventlet's hub: a query that answers at once costs no trip through the hub, and a long one never
holds the service's other green threads up (services/backbone/green_wait.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import PG_URL, ROOT

pytestmark = pytest.mark.integration

PROBE = textwrap.dedent(
    """
    import eventlet
    eventlet.monkey_patch()  # as `nameko run` does, before the service's modules are imported
    import json, sys, time
    import services  # noqa: F401 - installs the wait
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
        "spin": green_wait.SPIN,
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
