"""A store that cannot be reached (PostgreSQL restarting) is told apart from a fault of the hub: the
first becomes UnavailableError and one log line, the second keeps its traceback."""

from __future__ import annotations

import logging
import socket
import sqlite3
import sys
from types import SimpleNamespace

import psycopg
import pytest
import structlog
from amqp.exceptions import ConnectionForced
from eventsourcing import persistence
from eventsourcing.postgres import PostgresDatastore
from kombu.exceptions import OperationalError as KombuOperationalError
from nameko.exceptions import UnknownService

from services.backbone import refusals, store_outage
from services.backbone.errors import UnavailableError


def as_eventsourcing_raises(outer: type[Exception], inner: BaseException) -> Exception:
    """eventsourcing's datastore raises its own error `from` psycopg's (eventsourcing/postgres.py)."""
    try:
        try:
            raise inner
        except BaseException as error:
            raise outer(str(error)) from error
    except Exception as raised:
        return raised


DATABASE_AWAY = {
    "the pooled connection died (make chaos)": as_eventsourcing_raises(
        persistence.OperationalError,
        psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly"),
    ),
    "the server shut down (pg_ctl stop -m fast)": as_eventsourcing_raises(
        persistence.OperationalError,
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
    ),
    "the server crashed": as_eventsourcing_raises(
        persistence.OperationalError, psycopg.errors.CrashShutdown("terminating connection")
    ),
    "the server starting up": as_eventsourcing_raises(
        persistence.OperationalError, psycopg.errors.CannotConnectNow("the database system is starting up")
    ),
    "a connection exception (class 08)": as_eventsourcing_raises(
        persistence.OperationalError, psycopg.errors.ConnectionFailure("connection failure")
    ),
    "a connection closed under the pool": as_eventsourcing_raises(
        persistence.InterfaceError, psycopg.InterfaceError("the connection is closed")
    ),
    "psycopg's own, unwrapped": psycopg.errors.AdminShutdown("terminating connection"),
}

HUB_FAULTS = {
    "a missing table": as_eventsourcing_raises(
        persistence.ProgrammingError, psycopg.errors.UndefinedTable('relation "x" does not exist')
    ),
    "a cancelled query (57014, not a shutdown)": as_eventsourcing_raises(
        persistence.OperationalError, psycopg.errors.QueryCanceled("canceling statement due to timeout")
    ),
    "a broken constraint": as_eventsourcing_raises(
        persistence.IntegrityError, psycopg.errors.UniqueViolation("duplicate key")
    ),
    "SQLite's OperationalError (the embedded store)": as_eventsourcing_raises(
        persistence.OperationalError, sqlite3.OperationalError("no such table: stored_events")
    ),
    "eventsourcing's, from nothing": persistence.OperationalError("no cause"),
    "a bug raised from an outage": as_eventsourcing_raises(
        RuntimeError, psycopg.errors.AdminShutdown("terminating connection")
    ),
    "a bug": KeyError("town"),
}


@pytest.mark.parametrize("error", DATABASE_AWAY.values(), ids=DATABASE_AWAY.keys())
def test_the_database_away_is_unreachable(error: BaseException) -> None:
    assert store_outage.unreachable(error)


@pytest.mark.parametrize("error", HUB_FAULTS.values(), ids=HUB_FAULTS.keys())
def test_a_fault_of_the_hub_is_not_an_outage(error: BaseException) -> None:
    assert not store_outage.unreachable(error)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_no_server_at_all_is_unreachable() -> None:
    """eventsourcing's own error when nothing listens (its pool timed out waiting for a connection)."""
    datastore = PostgresDatastore(
        dbname="hub", host="127.0.0.1", port=str(closed_port()), user="root", password="", connect_timeout=0.3
    )
    try:
        with pytest.raises(persistence.OperationalError) as raised, datastore.get_connection():
            pass
    finally:
        datastore.close()
    assert store_outage.unreachable(raised.value)


def test_the_answer_names_the_service_and_no_database_detail() -> None:
    away = as_eventsourcing_raises(
        persistence.OperationalError, psycopg.OperationalError("connection to 127.0.0.1:5439 refused")
    )
    error = store_outage.answer("registry", away)
    assert isinstance(error, UnavailableError) and error.grpc_status == "UNAVAILABLE"
    assert "registry" in str(error) and "127.0.0.1" not in str(error)
    assert store_outage.answer("registry", KeyError("town")) is None  # a fault of the hub: left as it is


def nameko_record(error: BaseException) -> logging.LogRecord:
    """The record nameko's container logs for an entrypoint that raised (`error handling worker`)."""
    worker_ctx = SimpleNamespace(
        service_name="registry",
        entrypoint=SimpleNamespace(method_name="register"),
        data={"correlation_id": "cid-outage"},
    )
    try:
        raise error
    except BaseException:
        exc_info = sys.exc_info()
    return logging.LogRecord(
        refusals.NAMEKO_CONTAINER_LOGGER,
        logging.ERROR,
        __file__,
        1,
        "error handling worker %s: %s",
        (worker_ctx, error),
        exc_info,
    )


def test_an_outage_is_one_warning_line_not_a_traceback() -> None:
    error = DATABASE_AWAY["the server shut down (pg_ctl stop -m fast)"]
    with structlog.testing.capture_logs() as logged:
        kept = refusals.ClientMistakes().filter(nameko_record(error))
    assert kept is False  # nameko's record, traceback and all, is not written
    assert logged == [
        {
            "event": "store_unreachable",
            "log_level": "warning",
            "method": "registry.register",
            "error": "terminating connection due to administrator command",
            "correlation_id": "cid-outage",
        }
    ]


def test_a_fault_of_the_hub_keeps_its_traceback() -> None:
    with structlog.testing.capture_logs() as logged:
        kept = refusals.ClientMistakes().filter(nameko_record(HUB_FAULTS["a missing table"]))
    assert kept is True and logged == []


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(UnknownService("riskpoints"), id="no queue"),
        pytest.param(ConnectionForced("broker restarting"), id="forced"),
        pytest.param(KombuOperationalError("refused"), id="kombu refused"),
    ],
)
def test_a_call_to_another_service_the_broker_cannot_carry_now_is_an_outage(error: BaseException) -> None:
    assert store_outage.peer_unreachable(error)


@pytest.mark.parametrize(
    "error", [OSError("disk full"), ValueError("bad"), KeyError("x"), RuntimeError("hub bug")], ids=repr
)
def test_anything_else_raised_in_a_service_is_not_a_peer_outage(error: BaseException) -> None:
    assert not store_outage.peer_unreachable(error)
