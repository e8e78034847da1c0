"""Recorders that write each transaction's link row (services.backbone.links) with its events.

`attach` gives a store's recorder the linking class for its kind (in memory, SQLite, PostgreSQL by
INSERT or by COPY): the same recorder, which after inserting a transaction's events (their ids taken,
the events table locked or SQLite's write lock held) reads the previous row, links, and inserts the
new row before the transaction commits. `rows` reads them back for the audit.

HUB_WRITE_LINKS=false writes no rows: the benchmarks' baseline. The audit then reports every event
written so as unlinked: nothing slips through unseen.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, PersistenceError, StoredEvent
from eventsourcing.popo import POPOProcessRecorder
from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteProcessRecorder
from eventsourcing.utils import retry, strtobool
from psycopg import sql

from services.backbone import copy_events, links
from services.backbone.settings import CHAIN_KEY_FILE, default_secrets_dir

ENV = "HUB_WRITE_LINKS"


def enabled(env: Mapping[str, str]) -> bool:
    return strtobool(env.get(ENV, "true"))


def table(recorder: Any) -> str:
    return f"{recorder.events_table_name}_links"


class Linking:
    """What every linking recorder adds: the store's name, and the row for a transaction's events."""

    link_store = ""
    link_key: links.LinkKey

    def _row(
        self, previous: bytes | None, ids: Sequence[int], stored_events: Sequence[StoredEvent]
    ) -> links.Row:
        pairs = sorted(zip(ids, stored_events, strict=True), key=lambda p: p[0])
        key = self.link_key.write()  # read once per recorder
        start = previous if previous is not None else links.genesis(self.link_store)
        return links.row_for(
            key, self.link_store, start, [n for n, _ in pairs], [links.digest(e) for _, e in pairs]
        )


class LinkingPOPORecorder(Linking, POPOProcessRecorder):
    """In memory (the unit tests' stores): rows in a list, under the recorder's lock."""

    def _update_table(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        ids = super()._update_table(stored_events, **kwargs)
        if ids:
            found: list[links.Row] = self.__dict__.setdefault("link_rows", [])
            found.append(self._row(found[-1].link if found else None, ids, stored_events))
        return ids


class LinkingSQLiteRecorder(Linking, SQLiteProcessRecorder):
    def create_link_table(self) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {table(self)} (last_id INTEGER PRIMARY KEY, "
                "first_id INTEGER NOT NULL, count INTEGER NOT NULL, link BLOB NOT NULL)"
            )

    def _insert_events(
        self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        if ids:  # the events are in: this connection holds SQLite's write lock until the commit
            c.execute(f"SELECT link FROM {table(self)} ORDER BY last_id DESC LIMIT 1")
            found = c.fetchone()
            row = self._row(bytes(found[0]) if found else None, ids, stored_events)
            c.execute(f"INSERT INTO {table(self)} VALUES (?, ?, ?, ?)", tuple(row))
        return ids


class PostgresLinks(Linking):
    """The statements of a PostgreSQL store's link table (same schema as its events)."""

    datastore: Any
    _link_sql: tuple[sql.Composed, sql.Composed] | None = None

    def create_link_table(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {}.{} (last_id bigint PRIMARY KEY, first_id bigint NOT NULL,"
                    " count integer NOT NULL, link bytea NOT NULL)"
                ).format(sql.Identifier(self.datastore.schema), sql.Identifier(table(self)))
            )

    def _statements(self) -> tuple[sql.Composed, sql.Composed]:
        if self._link_sql is None:
            name = sql.Identifier(self.datastore.schema, table(self))
            self._link_sql = (
                sql.SQL("SELECT link FROM {} ORDER BY last_id DESC LIMIT 1").format(name),
                sql.SQL("INSERT INTO {} (last_id, first_id, count, link) VALUES (%s, %s, %s, %s)").format(
                    name
                ),
            )
        return self._link_sql

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """The recorder's insert; once it has committed, the link it wrote is the one to build on."""
        written = self.__dict__.setdefault("_written", threading.local())
        written.link = None
        ids = super().insert_events(stored_events, **kwargs)  # type: ignore[misc]
        if written.link is not None:
            self.__dict__["_last_link"] = written.link
        return ids  # type: ignore[no-any-return]

    def _link(self, curs: Any, ids: Sequence[int], stored_events: Sequence[StoredEvent]) -> None:
        """Under the events table's EXCLUSIVE lock (taken before the ids): no other writer between.
        The previous link is the last one this recorder committed when these ids follow its ids with no
        gap: any other writer since (another process of the store), and any transaction that failed,
        took ids from the sequence in between. Otherwise it is read from the table."""
        previous, insert = self._statements()
        last = self.__dict__.get("_last_link")
        if last is not None and min(ids) == last[0] + 1:
            before: bytes | None = last[1]
        else:
            curs.execute(previous, prepare=True)
            found = curs.fetchone()
            before = bytes(found["link"]) if found else None
        row = self._row(before, ids, stored_events)
        curs.execute(insert, tuple(row), prepare=True)
        self.__dict__["_written"].link = (row.last_id, row.link)  # kept once the commit is through


class LinkingPostgresRecorder(PostgresLinks, PostgresProcessRecorder):
    """eventsourcing's INSERT path (HUB_COPY_EVENTS=false)."""

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if ids:
            self._link(curs, ids, stored_events)
        return ids


class LinkingCopyingRecorder(PostgresLinks, copy_events.CopyingProcessRecorder):
    """The hub's COPY path."""

    def _after_copy(self, curs: Any, ids: Sequence[int], stored_events: Sequence[StoredEvent]) -> None:
        self._link(curs, ids, stored_events)


_CLASSES: dict[type, type] = {
    POPOProcessRecorder: LinkingPOPORecorder,
    SQLiteProcessRecorder: LinkingSQLiteRecorder,
    PostgresProcessRecorder: LinkingPostgresRecorder,
    copy_events.CopyingProcessRecorder: LinkingCopyingRecorder,
}
_create_lock = threading.Lock()


def key_of(env: Mapping[str, str]) -> links.LinkKey:
    """The write-link key of a store's application: as its settings put it in its env (Settings.app_env:
    open_store's stores), else in the secrets folder the env names, or the default one."""
    runtime, secrets = env.get("HUB_RUNTIME_DIR"), env.get("HUB_SECRETS_DIR")
    path = env.get(links.KEY_FILE_ENV) or Path(secrets or default_secrets_dir()) / CHAIN_KEY_FILE
    return links.LinkKey(env.get(links.KEY_ENV, ""), Path(path), Path(runtime) if runtime else None)


def attach(recorder: Any, store: str, env: Mapping[str, str]) -> Any:
    """The recorder, now writing link rows (its class swapped: the same state), its table created
    where the store's tables are; unchanged when HUB_WRITE_LINKS=false or for a kind it cannot link."""
    linking = _CLASSES.get(type(recorder))
    if linking is None or not enabled(env):
        return recorder
    if getattr(getattr(recorder, "datastore", None), "enable_db_functions", False):
        raise PersistenceError(
            "write-time links need the hub's insert path, not eventsourcing's db functions"
        )
    recorder.__class__ = linking
    recorder.link_store = store
    recorder.link_key = key_of(env)
    if hasattr(recorder, "create_link_table") and strtobool(env.get("CREATE_TABLE", "true")):
        with _create_lock:
            recorder.create_link_table()
    return recorder


def rows(recorder: Any, after: int, stop: int | None = None, limit: int = 10_000) -> list[links.Row] | None:
    """The link rows whose last id is above `after` (and at most `stop`), in order; None when the
    store has no link table (written before links, or with HUB_WRITE_LINKS=false)."""
    if isinstance(recorder, POPOProcessRecorder):
        kept: list[links.Row] | None = recorder.__dict__.get("link_rows")
        if kept is None:
            return None
        return [r for r in kept if r.last_id > after and (stop is None or r.last_id <= stop)][:limit]
    try:
        if isinstance(recorder, SQLiteProcessRecorder):
            statement = f"SELECT last_id, first_id, count, link FROM {table(recorder)} WHERE last_id > ?"
            params: list[Any] = [after] + ([] if stop is None else [stop])
            statement += (" AND last_id <= ?" if stop is not None else "") + " ORDER BY last_id LIMIT ?"
            with recorder.datastore.transaction(commit=False) as c:
                c.execute(statement, [*params, limit])
                return [links.Row(r[0], r[1], r[2], bytes(r[3])) for r in c.fetchall()]
        return _postgres_rows(recorder, after, stop, limit)
    except Exception as error:  # noqa: BLE001 - the table is missing: say so, as None
        if _missing_table(error):
            return None
        raise


# eventsourcing's own retry, as on its recorders' reads: a pooled connection PostgreSQL dropped is replaced
@retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
def _postgres_rows(recorder: Any, after: int, stop: int | None, limit: int) -> list[links.Row]:
    name = sql.Identifier(recorder.datastore.schema, table(recorder))
    query = sql.SQL("SELECT last_id, first_id, count, link FROM {} WHERE last_id > %s").format(name)
    if stop is not None:
        query += sql.SQL(" AND last_id <= %s")
    query += sql.SQL(" ORDER BY last_id LIMIT %s")
    with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(query, [after, *([] if stop is None else [stop]), limit])
        return [links.Row(r["last_id"], r["first_id"], r["count"], bytes(r["link"])) for r in curs.fetchall()]


def _missing_table(error: BaseException) -> bool:
    text = f"{type(error).__name__}: {error} {error.__cause__!r}"
    return "no such table" in text or "UndefinedTable" in text or "does not exist" in text
