"""Each service's own event store: an eventsourcing application on SQLite or PostgreSQL."""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from copy import deepcopy
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent, Repository
from eventsourcing.persistence import (
    JSONTranscoder,
    Notification,
    ProcessRecorder,
    Recording,
    Transcoder,
)
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from psycopg import sql

from services.backbone import (
    consistency,
    copy_events,
    large_messages,
    library,
    link_recorders,
    read_many,
    transcoder,
)
from services.backbone.library import HubRepository, Processing, project
from services.backbone.settings import Settings

TApp = TypeVar("TApp", bound="HubApplication")


# A view of every enterprise (or of every waiting message) grows with the data set. Snapshotted every n
# events, each snapshot costs the whole view, and a province's snapshots add up to gigabytes and to a
# per-event cost that grows with the province. Its interval doubles as it grows instead: a snapshot
# costs about this many entries per event, and a load replays at most size / this many events.
ENTRIES_PER_EVENT = 20


def weight(aggregate: Any) -> int:
    """The entries an aggregate holds: the lengths of its top-level collections (its state's, not the
    pending events')."""
    return sum(
        len(v)
        for k, v in vars(aggregate).items()
        if not k.startswith("_") and isinstance(v, dict | list | set)
    )


def snapshot_interval(base: int, aggregate: Any) -> int:
    """`base`, doubled until a snapshot's share of each event is at most ENTRIES_PER_EVENT entries."""
    interval = base
    while interval * ENTRIES_PER_EVENT < weight(aggregate):
        interval *= 2
    return interval


def notify_channel(schema: str, table: str) -> str:
    """The channel a store's inserts NOTIFY and its relay LISTENs on. eventsourcing names it after the
    events table alone, and every service's table has the same name in each hub's schema: hubs (and
    namespaces) sharing a database woke each other's relays on every insert. A PostgreSQL identifier
    holds 63 bytes: a longer name keeps the table's and a digest of the schema."""
    name = f"{schema}.{table}"
    if len(name.encode("utf-8")) <= 63:
        return name
    return f"{table[:40]}.{hashlib.sha256(schema.encode('utf-8')).hexdigest()[:20]}"


MANY_AT_ONCE = 500  # aggregates read per query by get_many
T = TypeVar("T")


def pages(items: list[T], size: int) -> Iterator[list[T]]:
    """`items` in consecutive slices of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _cached(cache: Any, aggregate_id: UUID) -> Any:
    try:
        return cache.get(aggregate_id)
    except KeyError:
        return None


def _keep(cache: Any, aggregate: Any) -> None:
    """Keeps `aggregate` unless a later version of it is kept already."""
    kept = _cached(cache, aggregate.id)
    if kept is None or kept.version < aggregate.version:
        cache.put(aggregate.id, aggregate)


class HubApplication(Application):
    """A service's application. Its recorder also records tracking positions (relay, consumers)."""

    service = ""
    # get_many brings the aggregates the repository keeps (AGGREGATE_CACHE_MAXSIZE) up to date instead
    # of reading them afresh, and keeps what it read; for aggregates cheaper to copy than to decode
    get_many_kept = False
    _read_many_sql: sql.Composed | None = None

    def construct_repository(self) -> Repository[Any]:
        return library.become(super().construct_repository(), HubRepository)  # the cheaper replay

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[Any]]:
        processing = Processing()
        processing.collect_events(*objs, **kwargs)
        recordings = library.record(self, processing, notify=True)
        consistency.note_recordings(self.service, recordings)
        if self.get_many_kept:
            self._keep_saved(processing.aggregates)
        return recordings

    def _keep_saved(self, saved: dict[UUID, Any]) -> None:
        """A kept aggregate just saved here is kept as saved (a copy: the caller still holds it), so the
        next read finds no events of its own to decode; one saved elsewhere since is caught up on read."""
        cache = self.repository.cache
        if cache is None:
            return
        for aggregate_id, aggregate in saved.items():
            if _cached(cache, aggregate_id) is not None:
                _keep(cache, deepcopy(aggregate))

    def construct_transcoder(self) -> Transcoder:
        made = self.factory.transcoder()
        if type(made) is JSONTranscoder and transcoder.enabled(self.env):
            library.become(made, transcoder.OrjsonTranscoder)  # the same stored form, orjson's speed
        if isinstance(made, JSONTranscoder):
            self.register_transcodings(made)
        return made

    def construct_recorder(self) -> ProcessRecorder:
        recorder = self.factory.process_recorder()
        if isinstance(recorder, PostgresProcessRecorder):
            recorder.channel_name = notify_channel(recorder.datastore.schema, recorder.events_table_name)
        if type(recorder) is PostgresProcessRecorder and copy_events.enabled(self.env):
            library.become(recorder, copy_events.CopyingProcessRecorder)  # the same state, events by COPY
        if isinstance(recorder, PostgresProcessRecorder):
            large_messages.attach(recorder.datastore, None)  # no connection keeps a snapshot's buffers
        return link_recorders.attach(recorder, self.service, self.env)  # write-time links

    def construct_snapshot_store(self) -> Any:
        store = super().construct_snapshot_store()
        large_messages.attach(getattr(store.recorder, "datastore", None), store.recorder)
        return store

    def record(self, processing: ProcessingEvent[UUID]) -> None:
        """Stores the events a consumer caused, atomically with its tracking record."""
        library.record(self, processing, notify=False)

    def _take_snapshots(self, processing_event: ProcessingEvent[Any]) -> None:
        """eventsourcing's, with an interval that grows with the aggregate (snapshot_interval), and taken
        from the aggregate just saved, never from a replay of the store. A save of a consumer's page
        holds many events of one view, and the version due (a multiple of the interval) is seldom its
        last: the snapshot is taken at the save's last version instead. Replaying the store up to the
        due version decoded the view's previous snapshot to write the next one: for a province's
        directory of 50,000 names, 93 MB allocated at once (its JSON parsed whole), which the
        allocator kept as the process's resident size."""
        if not (self.snapshots and self.snapshotting_intervals):
            return
        saved: dict[Any, list[int]] = {}
        for event in processing_event.events:
            saved.setdefault(event.originator_id, []).append(event.originator_version)
        for aggregate_id, versions in saved.items():
            aggregate: Any = processing_event.aggregates.get(aggregate_id)
            base = self.snapshotting_intervals.get(type(aggregate)) if aggregate is not None else None
            # every interval is a multiple of base: most saves are ruled out without weighing the view
            if base is None or not any(v % base == 0 for v in versions):
                continue
            interval = snapshot_interval(base, aggregate)
            due = [v for v in versions if v % interval == 0]
            if not due:
                continue
            if aggregate.version == versions[-1]:  # the saved state itself
                self.snapshots.put([type(aggregate).Snapshot.take(aggregate)])
            else:  # the aggregate moved on since (not a save of the hub's): its state is in the store
                self.take_snapshot(aggregate_id, version=due[-1], projector_func=project)

    def get_many(self, aggregate_ids: Iterable[UUID], kept: dict[UUID, Any] | None = None) -> dict[UUID, Any]:
        """The aggregates found among these ids, by id (those never saved are left out). On PostgreSQL
        a few hundred are read at once, in one query: their latest snapshots and the events after
        them, where `repository.get` asks twice per aggregate (a town's 一镇一册 read its
        enterprises' views so, 8,000 round trips for a town of 1,000). Aggregates the caller keeps
        (`kept`: a consumer's views from its last page) are checked and brought up to date in the
        same query: each comes back as it is when the store still ends at its version, else caught
        up. With `get_many_kept`, so are those the repository keeps, handed out as copies."""
        ids = list(dict.fromkeys(aggregate_ids))
        given = kept or {}
        if not isinstance(getattr(self.recorder, "datastore", None), PostgresDatastore):
            return {i: a for i in ids if (a := self._current(given.get(i)) or self.find(i)) is not None}
        cache = self.repository.cache if self.get_many_kept else None
        found: dict[UUID, Any] = {}
        for page in pages(ids, MANY_AT_ONCE):
            held = (
                {}
                if cache is None
                else {i: a for i in page if i not in given and (a := _cached(cache, i)) is not None}
            )
            versions = {i: a.version for i, a in held.items()}
            read = self._read_many(page, {**held, **{i: given[i] for i in page if i in given}})
            for aggregate_id, aggregate in read.items():
                if cache is None or aggregate_id in given:
                    found[aggregate_id] = aggregate
                    continue
                if aggregate.version != versions.get(aggregate_id):
                    _keep(cache, aggregate)  # read afresh, or caught up: kept as it is now
                found[aggregate_id] = deepcopy(aggregate)
        return found

    def peek(self, aggregate_id: UUID) -> Any:
        """The aggregate as this process keeps it (`get_many_kept`), neither read nor caught up, or None:
        for guessing what else to read in the same query (a stale guess costs only the read it meant to
        save), never for deciding anything. Not a copy: not to be changed."""
        cache = self.repository.cache if self.get_many_kept else None
        return None if cache is None else _cached(cache, aggregate_id)

    def _current(self, aggregate: Any) -> Any:
        """`aggregate` if the store ends exactly at its version (SQLite, POPO: one small query)."""
        if aggregate is None:
            return None
        stored = self.recorder.select_events(aggregate.id, gt=aggregate.version - 1, limit=2)
        return aggregate if [s.originator_version for s in stored] == [aggregate.version] else None

    def read_topic(self, after: int, topic: str, limit: int) -> tuple[list[Notification], int]:
        """Up to `limit` events of `topic` stored after notification `after`, read no further than the
        log's head as it is now; and how far the read reached. Ids up to the head are all committed
        (eventsourcing inserts under the table's lock), so nothing of the topic can still appear below
        that point: a periodic reader goes on from there, not from its last event of the topic (which
        rescanned every other event since, each time)."""
        head = self.recorder.max_notification_id() or 0
        if head <= after:
            return [], after
        page = list(
            self.recorder.select_notifications(
                start=after, limit=limit, stop=head, topics=[topic], inclusive_of_start=False
            )
        )
        return page, page[-1].id if len(page) == limit else head

    def find(self, aggregate_id: UUID) -> Any:
        """The aggregate, or None when it was never saved."""
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    def _read_many(self, ids: list[UUID], kept: dict[UUID, Any]) -> dict[UUID, Any]:
        """The aggregates among `ids`, read from their latest snapshot on (read_many.py: one query);
        those in `kept` from their own version: as they are when no event follows it, else a copy
        caught up (the kept one is never changed in place: another reader may be using it). A kept
        aggregate whose version the store does not hold (a save of it failed) is read afresh."""
        if self._read_many_sql is None:
            recorder: Any = self.recorder
            snapshots = self.snapshots.recorder.events_table_name if self.snapshots is not None else None  # type: ignore[attr-defined]
            self._read_many_sql = read_many.statement(
                recorder.datastore.schema, recorder.events_table_name, snapshots
            )
        after = [kept[i].version - 1 if i in kept else None for i in ids]  # its own version included
        stored = read_many.read(self.recorder.datastore, self._read_many_sql, ids, after)  # type: ignore[attr-defined]
        found, stale = {}, []
        for aggregate_id in ids:
            rows = stored.get(aggregate_id, [])
            if aggregate_id in kept:
                held = kept[aggregate_id]
                if not rows or rows[0].originator_version != held.version or held.pending_events:
                    stale.append(aggregate_id)
                elif len(rows) == 1:
                    found[aggregate_id] = held
                else:
                    events = (self.mapper.to_domain_event(s) for s in rows[1:])
                    found[aggregate_id] = project(deepcopy(held), events)
            elif rows:
                found[aggregate_id] = project(None, (self.mapper.to_domain_event(s) for s in rows))
        if stale:
            found.update(self._read_many(stale, {}))
        return found

    @property
    def process_recorder(self) -> ProcessRecorder:
        recorder = self.recorder
        assert isinstance(recorder, ProcessRecorder)
        return recorder


def postgres_params(env: dict[str, str]) -> dict[str, Any]:
    return {
        "host": env["POSTGRES_HOST"],
        "port": int(env["POSTGRES_PORT"]),
        "user": env["POSTGRES_USER"],
        "password": env["POSTGRES_PASSWORD"] or None,
        "connect_timeout": 10,
    }


def ensure_postgres_schema(env: dict[str, str]) -> None:
    """eventsourcing creates tables, not databases or schemas: make both exist."""
    params = postgres_params(env)
    dbname = env["POSTGRES_DBNAME"]
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
            except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                pass  # another process created it since: the catalog's unique index says so first
    with psycopg.connect(dbname=dbname, autocommit=True, **params) as conn:
        try:
            conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(env["POSTGRES_SCHEMA"]))
            )
        except psycopg.errors.UniqueViolation:
            pass  # a sibling process of the same service created it at the same moment


@contextmanager
def tables_created_one_at_a_time(env: dict[str, str]) -> Iterator[None]:
    """Several processes of one service (worker, relay, server) start together and each has
    eventsourcing create the service's tables. CREATE … IF NOT EXISTS races in PostgreSQL's catalog,
    and a retry can lose the race on the next table (the audit relay died so at start-up): a
    session-level advisory lock per database and schema lets one process create at a time."""
    key = f"riskhub-tables/{env['POSTGRES_DBNAME']}/{env['POSTGRES_SCHEMA']}"
    lock = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big", signed=True)
    with psycopg.connect(dbname=env["POSTGRES_DBNAME"], autocommit=True, **postgres_params(env)) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (lock,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (lock,))


@contextmanager
def sqlite_tables_created_one_at_a_time(env: dict[str, str]) -> Iterator[None]:
    """SQLite's equivalent of the advisory lock above. eventsourcing's SQLite recorder creates its
    tables and then records a `__migration__` tracking row; two processes opening a fresh store at
    once both find no tracking table and both insert that row, and the second dies with
    `IntegrityError: Failed to record tracking for __migration__ 1` (`make run`'s audit and
    audit-stream did, and honcho stopped the whole hub). An exclusive lock on a file beside the
    store (`<store>.lock`, flock: released by the kernel if its holder dies) lets one process create
    at a time; the next finds the tables and the row there. In-memory databases need none."""
    name = env.get("SQLITE_DBNAME", "")
    if not name or name.startswith("file:") or ":memory:" in name:
        yield
        return
    lock_path = Path(f"{name}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def open_store(app_class: type[TApp], settings: Settings, **extra_env: str) -> TApp:
    """Builds the service's application on its own store, creating what the store needs; any number
    of processes may open one store at once (its tables are created by one of them at a time)."""
    env = settings.persistence_env(app_class.service)
    env.update(settings.app_env())
    env.update(extra_env)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        with sqlite_tables_created_one_at_a_time(env):
            return app_class(env=env)
    if env["PERSISTENCE_MODULE"] != "eventsourcing.postgres":
        return app_class(env=env)
    ensure_postgres_schema(env)
    with tables_created_one_at_a_time(env):
        return app_class(env=env)
