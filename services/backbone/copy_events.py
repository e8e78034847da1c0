"""A service's events written to PostgreSQL with one binary COPY per transaction.

eventsourcing's PostgreSQL recorder inserts a transaction's events as ``INSERT … SELECT … FROM
unnest(%s::stored_event[])``: psycopg turns every event into the text of a composite value in Python,
and PostgreSQL parses that text back. For a page of 500 risk points that is ~60 µs an event, most of
the service's write. A binary COPY of the same rows costs ~7.

Everything else is eventsourcing's, in its order and in one transaction: the tracking record of a
consumer, the EXCLUSIVE lock on the events table (notification ids are taken and committed in
order), the NOTIFY that wakes the relay; sent together in one pipeline up to the reservation of the
notification ids, whose answer the COPY needs. The NOTIFY is left out when every event of the transaction
is internal (a consumer's views, indexes): the relay has nothing to publish then, and reads past them
on its next wake or within a second (wakeup.py). The notification ids are taken from the table's sequence
under that lock, before the COPY, and written with the rows: the ids returned are the ids stored.
A duplicate (originator id, version) fails the COPY with the same IntegrityError as the INSERT did.

A small transaction (a command's few events, a consumer's page of one) goes in as one INSERT instead,
pipelined with everything else: COPY cannot share a pipeline, and its own round trips (BEGIN, the
reservation, the COPY's start and end, the link, COMMIT: six in all) cost more than the COPY saves on
a handful of rows. Pipelined, the whole transaction is two round trips, as eventsourcing's own INSERT:
the statements up to the INSERT, whose ids the link needs, then the link and COMMIT.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent, Tracking
from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.utils import retry, strtobool
from psycopg import sql

from services.backbone import library
from services.backbone.aggregate import is_published

ENV = "HUB_COPY_EVENTS"  # "false" keeps eventsourcing's INSERT (the benchmarks' raw baseline)
SMALL = 16  # at most this many events in a transaction go in by the pipelined INSERT, more by COPY


class CopyingProcessRecorder(PostgresProcessRecorder):
    """eventsourcing's PostgresProcessRecorder, but the events go in with COPY (see the module)."""

    _copy: tuple[sql.Composed, sql.Composed, list[str]] | None = None  # made on first use
    _values: dict[int, sql.Composed] | None = None  # the INSERT of n events, by n

    def _copy_plan(self) -> tuple[sql.Composed, sql.Composed, list[str]]:
        """The statement reserving n notification ids, the COPY, and the COPY's column types."""
        if self._copy is None:
            table = sql.Identifier(self.datastore.schema, self.events_table_name)
            qualified = f'"{self.datastore.schema}"."{self.events_table_name}"'
            reserve = sql.SQL(
                "SELECT nextval(pg_get_serial_sequence({table}, 'notification_id')) AS id"
                " FROM generate_series(1, %s)"
            ).format(table=sql.Literal(qualified))
            copy = sql.SQL(
                "COPY {table} (notification_id, originator_id, originator_version, topic, state)"
                " FROM STDIN (FORMAT BINARY)"
            ).format(table=table)
            self._copy = (reserve, copy, ["int8", self.datastore.originator_id_type, "int8", "text", "bytea"])
        return self._copy

    def _values_plan(self, n: int) -> sql.Composed:
        """INSERT of n events, numbered by the table's sequence in their order, the ids returned."""
        if self._values is None:
            self._values = {}
        if n not in self._values:
            table = sql.Identifier(self.datastore.schema, self.events_table_name)
            rows = sql.SQL(", ").join([sql.SQL("(%b, %b, %b, %b)")] * n)
            self._values[n] = sql.SQL(
                "INSERT INTO {table} (originator_id, originator_version, topic, state) VALUES {rows}"
                " RETURNING notification_id"
            ).format(table=table, rows=rows)
        return self._values[n]

    # eventsourcing's own retry: its datastore turns psycopg's errors into these
    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if self.datastore.enable_db_functions:
            return super().insert_events(stored_events, **kwargs)  # type: ignore[no-any-return]
        if len(stored_events) <= SMALL:
            return self._insert_pipelined(stored_events, **kwargs)
        reserve, copy_statement, types = self._copy_plan()
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor() as curs,
            conn.cursor() as reserved,
        ):
            # up to the ids, one round trip: the statements are pipelined, their results read at its end
            with conn.pipeline():
                self._before_rows(curs, stored_events, **kwargs)
                if stored_events:
                    reserved.execute(reserve, (len(stored_events),))
            if not stored_events:
                return None
            ids = sorted(row["id"] for row in reserved.fetchall())
            with curs.copy(copy_statement) as copy:
                copy.set_types(types)
                for n, e in zip(ids, stored_events, strict=True):
                    copy.write_row((n, e.originator_id, e.originator_version, e.topic, e.state))
            self._after_copy(curs, ids, stored_events)
        return ids

    def _before_rows(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        """What goes before the rows, on either path: a consumer's tracking record, then (with events)
        the table's lock and the NOTIFY (internal events alone wake no relay)."""
        library.before_events(self, curs, stored_events, **kwargs)
        if stored_events:
            library.lock_events_table(self, curs)
            if any(is_published(e.topic) for e in stored_events):
                library.notify_followers(self, curs)

    def _insert_pipelined(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """A small transaction in two round trips (see the module): BEGIN, a consumer's tracking record,
        the lock, the NOTIFY and the INSERT, synced; then the link and COMMIT. Whatever raises inside
        (the database refusing a duplicate at the sync, or a fault of the hub's own) leaves the
        transaction by its error: rolled back, nothing of it stored, a tracking record least of all."""
        ids: list[int] | None = None
        with (
            self.datastore.get_connection() as conn,
            conn.pipeline() as pipeline,
            conn.transaction(),
            conn.cursor() as curs,
        ):
            self._before_rows(curs, stored_events, **kwargs)
            if stored_events:
                params: list[Any] = []
                for e in stored_events:
                    params += (e.originator_id, e.originator_version, e.topic, e.state)
                curs.execute(self._values_plan(len(stored_events)), params, prepare=True)
            pipeline.sync()  # a duplicate version or position is refused here, as eventsourcing's INSERT
            if stored_events:
                ids = [row["notification_id"] for row in curs.fetchall()]
                self._after_copy(curs, ids, stored_events)
        return ids

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_tracking(self, tracking: Tracking) -> None:
        """A position alone (a relay's, a consumer's page it had nothing to do for): one statement on the
        autocommit connection, atomic by itself, not BEGIN, INSERT and COMMIT."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            self._insert_tracking(curs, tracking)

    def _after_copy(self, curs: Any, ids: Sequence[int], stored_events: Sequence[StoredEvent]) -> None:
        """What else the transaction writes once its events are in (still under the table's lock):
        nothing here; the write-time links (services.backbone.link_recorders) hook in."""


def enabled(env: Any) -> bool:
    """Whether the store writes by COPY, read as eventsourcing reads its flags (true/false, y/n, 1/0)."""
    return strtobool(env.get(ENV, "true"))
