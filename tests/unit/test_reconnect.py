"""A worker's loop outlives failures: the broker or the database away is one line, a fault keeps its
traceback (a PostgreSQL restart left a relay_failed traceback in each stream process of the hub)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg
import pytest
import structlog
from eventsourcing import persistence

from services.backbone.reconnect import retry_until_done, run_until_stopped


def database_away() -> Exception:
    """What eventsourcing raises when its pool gets no connection (the database restarting)."""
    try:
        try:
            raise psycopg.errors.AdminShutdown("terminating connection due to administrator command")
        except psycopg.Error as error:
            raise persistence.OperationalError(str(error)) from error
    except persistence.OperationalError as raised:
        return raised


def failing_once(error: Exception, stop: threading.Event) -> Callable[[], str]:
    calls: list[int] = []

    def step() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise error
        stop.set()
        return "done"

    return step


@pytest.mark.parametrize("retryable", [(ConnectionError,), ()])
def test_the_database_away_is_one_line_in_the_loop(retryable: tuple[type[BaseException], ...]) -> None:
    stop = threading.Event()
    with structlog.testing.capture_logs() as logged:
        run_until_stopped(
            failing_once(database_away(), stop), stop, what="relay", retryable=retryable, first_pause=0
        )
    assert [(e["event"], e["log_level"]) for e in logged] == [("relay_reconnecting", "warning")]
    assert "administrator command" in logged[0]["error"] and "exc_info" not in logged[0]


def test_the_database_away_is_one_line_in_a_retried_operation() -> None:
    stop = threading.Event()
    with structlog.testing.capture_logs() as logged:
        done = retry_until_done(failing_once(database_away(), stop), stop, what="ledger", first_pause=0)
    assert done == "done"
    assert [(e["event"], e["log_level"]) for e in logged] == [("ledger_retry", "warning")]


def test_a_fault_keeps_its_traceback() -> None:
    stop = threading.Event()
    with structlog.testing.capture_logs() as logged:
        run_until_stopped(failing_once(KeyError("town"), stop), stop, what="relay", first_pause=0)
    assert [(e["event"], e["log_level"], e.get("exc_info")) for e in logged] == [
        ("relay_failed", "error", True)
    ]
