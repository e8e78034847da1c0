"""Any number of processes may open a store at once. Their first start raced to create the store's
tables (`IntegrityError: Failed to record tracking for __migration__ 1` on SQLite) and honcho then
stopped the whole hub. Here: six processes released by one barrier open one fresh SQLite store, ten
times (the race without the lock: nine rounds of ten lost it); and the audit store's three processes
(the worker, the gRPC server and its stream) started together on a fresh runtime folder or schema all
come up, ten times, on SQLite and on PostgreSQL."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from services.audit.application import AuditApplication
from services.backbone.settings import Settings
from services.backbone.store import open_store
from tests.conftest import ROOT, cleanup, free_port, make_settings, settings_env

pytestmark = pytest.mark.integration

ROUNDS = 10
PROCESSES = {
    "audit": ["-m", "services.audit.worker"],
    "audit-server": ["-m", "services.audit.server"],
    "audit-stream": ["-m", "services.backbone.stream", "audit"],
}
# what each prints once its store is open (the stream and worker log it, the server prints it)
READY = {"audit": "audit_worker_started", "audit-server": "listening", "audit-stream": "stream_started"}
SETTLE = 0.3  # seconds every process must stay up after the last one is ready (its store is open)


def open_after(settings: Settings, together: Any, answers: Any) -> None:
    together.wait()
    try:
        open_store(AuditApplication, settings).close()
        answers.put("")
    except Exception as error:  # noqa: BLE001 - the test reports what the process died of
        answers.put(repr(error))


def test_processes_released_together_all_open_one_fresh_sqlite_store(tmp_path: Path) -> None:
    fork = multiprocessing.get_context("fork")  # no imports to wait for: they meet at the barrier
    for n in range(ROUNDS):
        settings = Settings(runtime_dir=tmp_path / f"fresh-{n}")
        together, answers = fork.Barrier(6), fork.Queue()
        procs = [fork.Process(target=open_after, args=(settings, together, answers)) for _ in range(6)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(timeout=60)
        problems = [a for a in (answers.get(timeout=10) for _ in procs) if a]
        assert problems == [], f"round {n}"


def start_together(round_dir: Path, env: dict[str, str]) -> dict[str, subprocess.Popen[bytes]]:
    together = threading.Barrier(len(PROCESSES))
    started: dict[str, subprocess.Popen[bytes]] = {}

    def start(name: str, args: list[str]) -> None:
        log = open(round_dir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        together.wait()
        started[name] = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )

    threads = [threading.Thread(target=start, args=item) for item in PROCESSES.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return started


def outcome(round_dir: Path, procs: dict[str, subprocess.Popen[bytes]], timeout: float = 60.0) -> str:
    """'' when every process is ready and still alive a moment later; else what went wrong."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = {n: p.returncode for n, p in procs.items() if p.poll() is not None}
        if dead:
            return f"died: {dead}"
        logs = {n: (round_dir / f"{n}.log").read_text(errors="replace") for n in procs}
        if all(READY[n] in text for n, text in logs.items()):
            time.sleep(SETTLE)
            dead = {n: p.returncode for n, p in procs.items() if p.poll() is not None}
            return f"died after starting: {dead}" if dead else ""
        time.sleep(0.1)
    return "not ready in time"


def stop(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            proc.terminate()
    for proc in procs.values():
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def one_round(round_dir: Path, backend: str) -> tuple[Settings, str]:
    """A fresh store's three processes started together: '' when all came up, else why not."""
    round_dir.mkdir()
    settings = make_settings(round_dir, backend)
    env = {
        **settings_env(settings),
        "HUB_AUDIT_ADDRESS": f"127.0.0.1:{free_port()}",
        "HUB_AUDIT_INTERVAL": "60",  # one pass at the start is all this test needs
    }
    procs = start_together(round_dir, env)
    try:
        problem = outcome(round_dir, procs)
    finally:
        stop(procs)
    if problem:
        logs = "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-1500:]}" for log in round_dir.glob("*.log")
        )
        problem = f"{round_dir.name}: {problem}\n{logs}"
    return settings, problem


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_audit_processes_start_together_on_a_fresh_store_ten_times(
    backend: str, tmp_path: Path, infrastructure: dict[str, str]
) -> None:
    # two rounds at a time (each on a store of its own): a round mostly waits for its processes
    with ThreadPoolExecutor(max_workers=2) as pool:
        rounds = list(pool.map(lambda n: one_round(tmp_path / f"round-{n}", backend), range(ROUNDS)))
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(cleanup, [settings for settings, _ in rounds]))
    failures = [problem for _, problem in rounds if problem]
    assert not failures, "\n".join(failures[:2])
