"""The console's own store: tracking, parked messages and the read model's tables, in one database.

The read model is a materialised view in eventsourcing's sense: its rows are written by the same
transaction as the tracking record of the events that caused them (`ViewRecorder._insert_events`),
so a redelivered page changes nothing and a crash loses nothing. The tables are plain, indexed SQL
made for the console's pages (`schema.py`), on SQLite (the embedded default) or PostgreSQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, ProcessRecorder, StoredEvent
from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteProcessRecorder
from eventsourcing.utils import retry

from services.backbone.settings import Settings
from services.backbone.store import HubApplication, open_store

SERVICE = "console"
Statement = tuple[str, dict[str, Any]]
_PARAM = re.compile(r"%\((\w+)\)s")
_TABLE = re.compile(r"@(\w+)\b(?!\()")
_IDS = re.compile(r"@ids\((\w+)\)")  # a list of ids given as one parameter, as a table of one column `id`
_IDS_AS = {
    True: r"(SELECT unnest(CAST(%(\1)s AS text[])) AS id)",  # the parameter an array
    False: r"(SELECT value AS id FROM json_each(%(\1)s))",  # the parameter a JSON list
}
# Every view transaction of the console takes this lock first (PostgreSQL): the consumers of the
# different upstreams then write one after another, so a row that copies another table's columns
# (a risk point's town, from its enterprise) always sees the other consumer's committed write.
VIEW_LOCK = 0x636F6E736F6C65  # "console"


class Dialect:
    """SQL written once (`%(name)s` parameters, `@table` names, `@ids(name)` for a list of ids given as
    one parameter: `id_list`) for SQLite or PostgreSQL."""

    def __init__(self, schema: str = "") -> None:
        self.postgres = bool(schema)
        self.prefix = f'"{schema}".' if schema else ""

    def sql(self, text: str) -> str:
        return _convert(text, self.prefix, self.postgres)

    def id_list(self, ids: Iterable[str]) -> list[str] | str:
        """The value of an `@ids(name)` parameter."""
        return list(ids) if self.postgres else json.dumps(list(ids))


@lru_cache(maxsize=1024)
def _convert(text: str, prefix: str, postgres: bool) -> str:
    text = _IDS.sub(_IDS_AS[postgres], text)
    text = _TABLE.sub(lambda m: prefix + m.group(1), text)
    return text if postgres else _PARAM.sub(r":\1", text)


class ViewRecorder:
    """Mixed into eventsourcing's process recorder: writes the view statements a unit of work
    collected (`view=` of the processing event) inside the transaction of its tracking record."""

    dialect: Dialect

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        statements: list[Statement] = kwargs.get("view") or []
        if statements and self.dialect.postgres:
            c.execute("SELECT pg_advisory_xact_lock(%s)", (VIEW_LOCK,))
        returned = super()._insert_events(c, stored_events, **kwargs)  # type: ignore[misc]
        for text, group in _grouped(statements):
            sql = self.dialect.sql(text)
            if len(group) == 1:
                c.execute(sql, group[0])
            else:
                c.executemany(sql, group)
        return returned


def _grouped(statements: list[Statement]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The statements as executemany groups of one text each. A statement joins the last group of its
    text unless a group after that one names a table it names too (`@table`, read or written): a page
    of an import, which alternates a risk point's row and its line in the events index, is then two
    executemany (one round trip each in psycopg's pipeline) instead of two statements per event,
    while statements about the same tables keep their order."""
    groups: list[tuple[str, list[dict[str, Any]]]] = []
    for sql, params in statements:
        tables = _tables(sql)
        for text, group in reversed(groups):
            if text == sql:
                group.append(params)
                break
            if tables & _tables(text):
                groups.append((sql, [params]))
                break
        else:
            groups.append((sql, [params]))
    return groups


@lru_cache(maxsize=1024)
def _tables(text: str) -> frozenset[str]:
    return frozenset(_TABLE.findall(text))


class PostgresViewRecorder(ViewRecorder, PostgresProcessRecorder):
    pass


class SQLiteViewRecorder(ViewRecorder, SQLiteProcessRecorder):
    pass


class ConsoleApplication(HubApplication):
    """The console's store (service name "console"): its own SQLite file or PostgreSQL schema."""

    service = SERVICE

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        from console.readmodel import schema

        if str(self.env.get("CREATE_TABLE", "true")).lower() not in ("false", "no", "0"):
            with self.transaction() as c:
                for statement in schema.STATEMENTS:
                    c.execute(self.dialect.sql(statement))

    def construct_recorder(self) -> ProcessRecorder:
        recorder = self.factory.process_recorder()
        if isinstance(recorder, PostgresProcessRecorder):
            recorder.__class__ = PostgresViewRecorder
            dialect = Dialect(recorder.datastore.schema)
        elif isinstance(recorder, SQLiteProcessRecorder):
            recorder.__class__ = SQLiteViewRecorder
            dialect = Dialect()
        else:
            raise ValueError(f"the console's read model needs SQLite or PostgreSQL, not {type(recorder)}")
        recorder.dialect = dialect  # type: ignore[attr-defined]
        return recorder

    @property
    def dialect(self) -> Dialect:
        return self.recorder.dialect  # type: ignore[attr-defined,no-any-return]

    @contextmanager
    def transaction(self, commit: bool = True) -> Iterator[Any]:
        """A cursor of the store's database (rows as mappings), committed at the end when `commit`."""
        with self.recorder.datastore.transaction(commit=commit) as c:  # type: ignore[attr-defined]
            yield c

    # eventsourcing's own retry, as on its recorders' reads: a pooled connection PostgreSQL dropped (a
    # restart) is replaced, not answered as the page's error (a read: safe to make again)
    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def query(self, text: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The rows of one read (`%(name)s` parameters, `@table` names) as dicts."""
        with self.transaction(commit=False) as c:
            c.execute(self.dialect.sql(text), params or {})
            return [dict(row) for row in c.fetchall()]

    def execute(self, text: str, params: dict[str, Any] | None = None) -> None:
        """One write outside the consumers (the console's own records: verification runs)."""
        with self.transaction() as c:
            c.execute(self.dialect.sql(text), params or {})


def open_console_store(settings: Settings) -> ConsoleApplication:
    """The console's store for these settings (HUB_DATABASE_URL_CONSOLE, else HUB_DATABASE_URL, else
    SQLite under the runtime folder), its tables created when missing."""
    return open_store(ConsoleApplication, settings)
