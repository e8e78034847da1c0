"""Many aggregates' stored events in one query (HubApplication.get_many): per id its latest snapshot
(unless the caller keeps the aggregate at a known version), then the events after it.

An index probe per aggregate (lateral joins): as a plain join the planner may merge with the whole
primary key instead, reading the table end to end for a page of ids. A large page runs in a
transaction with JIT off (index probes estimated costly by stale statistics would be compiled
first: not worth it); a small one is a single statement, without BEGIN and COMMIT around it.

A connection the database dropped (PostgreSQL restarted) is tried again on another, as eventsourcing's
own recorders do: the pool discards the dead one.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.utils import retry
from psycopg import sql

from services.backbone import large_messages

SMALL_READ = 50  # ids read without a transaction of their own

COLUMNS = sql.SQL("originator_id, originator_version, topic, state")

EVENTS_ONLY = (
    "SELECT e.* FROM unnest(%s::uuid[], %s::bigint[]) WITH ORDINALITY AS s(id, after, n) "
    "CROSS JOIN LATERAL (SELECT {columns} FROM {schema}.{events} "
    "WHERE originator_id = s.id AND originator_version > COALESCE(s.after, 0)) AS e "
    "ORDER BY s.n, e.originator_version"
)

WITH_SNAPSHOTS = (
    "WITH s AS (SELECT * FROM unnest(%s::uuid[], %s::bigint[]) WITH ORDINALITY AS s(id, after, n)), "
    "snap AS (SELECT s.n, x.* FROM s CROSS JOIN LATERAL ("
    "SELECT {columns} FROM {schema}.{snapshots} WHERE originator_id = s.id AND s.after IS NULL "
    "ORDER BY originator_version DESC LIMIT 1) AS x) "
    "SELECT originator_id, originator_version, topic, state FROM ("
    "SELECT n, 0 AS part, {columns} FROM snap "
    "UNION ALL SELECT s.n, 1, e.* FROM s LEFT JOIN snap ON snap.n = s.n CROSS JOIN LATERAL ("
    "SELECT {columns} FROM {schema}.{events} WHERE originator_id = s.id "
    "AND originator_version > COALESCE(s.after, snap.originator_version, 0)) AS e"
    ") AS found ORDER BY n, part, originator_version"
)


def statement(schema: str, events_table: str, snapshots_table: str | None) -> sql.Composed:
    names = {"columns": COLUMNS, "schema": sql.Identifier(schema), "events": sql.Identifier(events_table)}
    if snapshots_table is None:
        return sql.SQL(EVENTS_ONLY).format(**names)
    return sql.SQL(WITH_SNAPSHOTS).format(snapshots=sql.Identifier(snapshots_table), **names)


# eventsourcing's own retry, as on its recorders' reads: its datastore turns psycopg's errors into these
@retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
def read(
    datastore: PostgresDatastore, query: sql.Composed, ids: list[UUID], after: list[int | None]
) -> dict[UUID, list[StoredEvent]]:
    """Each id's stored events (its snapshot first, when read), in order; ids with none left out.
    `after[i]` is the version ids[i] is kept at, or None to start from its latest snapshot."""
    large = len(ids) > SMALL_READ
    with (
        datastore.get_connection() as conn,
        conn.transaction() if large else nullcontext(),
        conn.cursor() as curs,
    ):
        if large:
            curs.execute("SET LOCAL jit = off")
        curs.execute(query, (ids, after))
        rows = curs.fetchall()
        large_messages.carried(len(row["state"]) for row in rows)  # a province's view: not pooled again
    stored: dict[UUID, list[StoredEvent]] = {}
    for row in rows:
        stored.setdefault(row["originator_id"], []).append(_stored(row))
    return stored


def _stored(row: Any) -> StoredEvent:
    return StoredEvent(
        originator_id=row["originator_id"],
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=bytes(row["state"]),
    )
