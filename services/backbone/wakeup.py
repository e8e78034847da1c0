"""Wakes an idle relay when its store has new events, instead of asking the store 50 times a second.

eventsourcing's PostgreSQL recorder sends a NOTIFY on its events table's channel with every insert
(delivered when the transaction commits). The relay LISTENs on a connection of its own and waits for
one, or for `timeout` at most (it still polls then: a notification missed during a reconnect costs
at most that long). On SQLite, or while the listening connection is down, it waits `idle_wait` and
polls as before.

The channel is named after the store's schema and table (store.notify_channel): hubs that share a
database (namespaces of tests and benchmarks) do not wake each other's relays. Only a transaction
with a published event notifies (copy_events.py). A woken relay polls at most once per `idle_wait`.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import structlog
from psycopg import sql

from services.backbone.store import HubApplication, postgres_params

log = structlog.get_logger(__name__)

RECONNECT_AFTER = 5.0  # seconds between attempts to listen again after the connection broke


class StoreWakeup:
    def __init__(self, app: HubApplication, idle_wait: float, timeout: float = 1.0) -> None:
        self.app, self.idle_wait, self.timeout = app, idle_wait, timeout
        self.channel: str | None = getattr(app.recorder, "channel_name", None)
        self._conn: psycopg.Connection[Any] | None = None
        self._retry_at = 0.0
        self._woken_at = 0.0

    @property
    def listening(self) -> bool:
        return self._conn is not None

    def wait(self, stop: threading.Event, at_most: float | None = None) -> None:
        """Returns when the store may have new events, after `timeout` (or `at_most`, when sooner), or
        soon after `stop` is set."""
        conn = self._listen()
        if conn is None:
            stop.wait(self.idle_wait if at_most is None else min(self.idle_wait, at_most))
            return
        timeout = self.timeout if at_most is None else min(self.timeout, at_most)
        try:
            for _ in conn.notifies(timeout=timeout, stop_after=1):
                pass
        except psycopg.Error as error:
            log.warning("relay_wakeup_lost", channel=self.channel, error=repr(error))
            self.close()
            self._retry_at = time.monotonic() + RECONNECT_AFTER
            stop.wait(self.idle_wait)
            return
        now = time.monotonic()
        stop.wait(max(0.0, self._woken_at + self.idle_wait - now))
        self._woken_at = max(now, self._woken_at + self.idle_wait)

    def _listen(self) -> psycopg.Connection[Any] | None:
        if self._conn is not None or self.channel is None or time.monotonic() < self._retry_at:
            return self._conn
        env = self.app.env
        try:
            conn = psycopg.connect(dbname=env["POSTGRES_DBNAME"], autocommit=True, **postgres_params(env))
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
        except psycopg.Error as error:
            log.warning("relay_wakeup_unavailable", channel=self.channel, error=repr(error))
            self._retry_at = time.monotonic() + RECONNECT_AFTER
            return None
        self._conn = conn
        return conn

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except psycopg.Error:
                pass
