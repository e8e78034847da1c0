"""Many aggregates read together (a town's views for its queries) are the aggregates read one by one:
from a snapshot and the events after it, from events alone, or not at all when never saved."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from console.readmodel.store import ConsoleApplication
from services.backbone import link_recorders, read_many, store
from services.backbone.store import open_store
from services.dangers.application import DangersApplication
from services.dangers.records import list_id
from services.registry.application import RegistryApplication
from services.registry.index import EnterpriseIndex
from tests.conftest import PG_URL, cleanup, make_settings, wait_for
from tests.dangers_data import known_enterprise, owns, report
from tests.factories import enterprise_fields

pytestmark = pytest.mark.integration


def saved_indexes(app: RegistryApplication) -> list[EnterpriseIndex]:
    """Indexes at versions around the snapshot interval (100): before, at, and past a snapshot."""
    indexes = []
    for n, changes in enumerate((0, 5, 99, 100, 101, 230)):
        index = EnterpriseIndex(kind="town", value=f"镇{n}")
        for k in range(changes):
            index.change(added={f"e{n}-{k}"}, removed={f"e{n}-{k - 3}"} if k % 4 == 0 else set())
            if k % 7 == 0 or k == changes - 1:
                app.save(index)  # saves of several events each: snapshots land where they fall
        app.save(index)
        indexes.append(index)
    return indexes


def state(index: Any) -> tuple[Any, ...]:
    return index.id, index.version, index.kind, index.value, dict(index.members)


@pytest.mark.parametrize(
    ("backend", "kept", "small_read"),
    [("postgres", False, 50), ("postgres", True, 50), ("postgres", False, 2), ("sqlite", False, 50)],
)
def test_read_together_equals_read_one_by_one(
    backend: str,
    kept: bool,
    small_read: int,
    tmp_path: Path,
    infrastructure: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Read afresh or through the kept aggregates; a page small enough for one statement, or larger
    (in a transaction of its own)."""
    app = open_store(RegistryApplication, make_settings(tmp_path, backend))
    app.get_many_kept = kept
    monkeypatch.setattr(read_many, "SMALL_READ", small_read)
    try:
        indexes = saved_indexes(app)
        assert app.snapshots is not None
        assert any(list(app.snapshots.get(i.id)) for i in indexes)  # some are read from a snapshot
        never_saved = uuid.uuid4()
        monkeypatch.setattr(store, "MANY_AT_ONCE", 4)  # the six ids and the missing one in two reads
        found = app.get_many([never_saved, *(i.id for i in indexes), indexes[0].id])
        assert never_saved not in found
        assert [state(found[i.id]) for i in indexes] == [state(app.repository.get(i.id)) for i in indexes]
        assert [state(found[i.id]) for i in indexes] == [state(i) for i in indexes]
    finally:
        app.close()


def test_kept_aggregates_are_caught_up_and_handed_out_as_copies(
    tmp_path: Path, infrastructure: dict[str, str]
) -> None:
    """The registry keeps its shards between registrations: another process's saves are caught up on
    the next read, a command's unsaved change never reaches the kept one, and its own save is kept
    as saved (nothing of its own decoded again)."""
    settings = make_settings(tmp_path, "postgres")
    app, other = open_store(RegistryApplication, settings), open_store(RegistryApplication, settings)
    try:
        assert app.get_many_kept and app.repository.cache is not None
        index = EnterpriseIndex(kind="town", value="张山子镇", shard=3)
        index.change({"e1"}, set())
        app.save(index)
        assert app.get_many([index.id])[index.id].members == {"e1": None}  # now kept
        theirs = other.repository.get(index.id)
        theirs.change({"e2"}, set())
        other.save(theirs)  # another process of the registry
        mine = app.get_many([index.id])[index.id]
        assert list(mine.members) == ["e1", "e2"] and mine.version == theirs.version
        mine.change({"unsaved"}, set())  # a command that fails before its save
        again = app.get_many([index.id])[index.id]
        assert "unsaved" not in again.members and again.version == theirs.version
        again.change({"e3"}, set())
        app.save(again)
        decoded: list[int] = []
        to_domain_event = app.mapper.to_domain_event
        app.mapper.to_domain_event = lambda stored: decoded.append(1) or to_domain_event(stored)  # type: ignore[method-assign]
        after_save = app.get_many([index.id])[index.id]
        assert list(after_save.members) == ["e1", "e2", "e3"] and after_save.version == again.version
        assert decoded == []  # its own save was kept: no event of it read back
        assert after_save is not app.get_many([index.id])[index.id]  # each read its own copy
    finally:
        app.close()
        other.close()


def test_a_report_decodes_only_what_others_wrote_since_its_last_read(
    tmp_path: Path, infrastructure: dict[str, str]
) -> None:
    """The dangers service keeps each enterprise's danger list (one event per danger, read by every
    report): its own reports are kept as saved, another process's are caught up, and copies share no
    state with the kept list."""
    settings = make_settings(tmp_path, "postgres")
    app, other = open_store(DangersApplication, settings), open_store(DangersApplication, settings)
    try:
        assert app.get_many_kept and app.repository.cache is not None
        eid, point = str(uuid.uuid4()), str(uuid.uuid4())
        known_enterprise(app, eid)
        ids = [app.report(eid, report(risk_point_id=point), owns)["danger_id"] for _ in range(30)]
        decoded: list[str] = []
        to_domain_event = app.mapper.to_domain_event
        app.mapper.to_domain_event = lambda stored: decoded.append(stored.topic) or to_domain_event(stored)  # type: ignore[method-assign]
        ids.append(app.report(eid, report(risk_point_id=point), owns)["danger_id"])
        assert decoded == []  # its own saves were kept: the list is not read back (was 10-20 events)
        ids.append(other.report(eid, report(risk_point_id=point), owns)["danger_id"])  # another process
        ids.append(app.report(eid, report(risk_point_id=point), owns)["danger_id"])
        assert [t.rsplit(".", 1)[-1] for t in decoded] == ["Added"]  # the other's danger, caught up
        listed = app.get_many([list_id(eid)])[list_id(eid)]
        assert listed.danger_ids == ids
        listed.add("not saved")  # a command's copy: the kept list is not changed
        assert app.get_many([list_id(eid)])[list_id(eid)].danger_ids == ids
    finally:
        app.close()
        other.close()


def test_a_registration_reads_once_and_joins_the_shards_routed_now(
    tmp_path: Path, infrastructure: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shards a registration joins are read with the enterprise, the routing table and the directory,
    as the kept table routes it; a table changed by another process since only costs a second read."""
    settings = make_settings(tmp_path, "postgres")
    app, other = open_store(RegistryApplication, settings), open_store(RegistryApplication, settings)
    try:
        app.add_department(
            {"code": "ZSZ-AWB", "name": "张山子镇安委会办公室", "kind": "镇安委会办公室", "town": "张山子镇"}
        )
        for code in ("AJ", "FIRE"):
            app.add_department({"code": code, "name": code, "kind": "安监"})
        app.set_routing_rule("化工", "*", ["AJ"])
        first = app.register(enterprise_fields(1))["enterprise_id"]  # table and directory kept from here
        reads: list[int] = []
        read = read_many.read
        monkeypatch.setattr(read_many, "read", lambda *a: reads.append(len(a[2])) or read(*a))
        second = app.register(enterprise_fields(2))["enterprise_id"]
        # the enterprise, table, directory; its town's, industry's, AJ's, town office's shards
        assert reads == [3 + 4]
        other.set_routing_rule("化工", "*", ["FIRE"])  # another process of the registry
        reads.clear()
        third = app.register(enterprise_fields(3))["enterprise_id"]
        assert len(reads) == 2  # guessed AJ's shard; routed to FIRE's, read then
        fire = sorted(e["enterprise_id"] for e in app.list_enterprises(department="FIRE"))
        assert fire == sorted([first, second, third])  # the rule moved the first two, routed the third
        assert app.list_enterprises(department="AJ") == []
        assert len(app.list_enterprises(town="张山子镇")) == 3
    finally:
        app.close()
        other.close()


def test_a_connection_the_database_dropped_is_replaced_not_reported(
    tmp_path: Path, infrastructure: dict[str, str]
) -> None:
    """A PostgreSQL restart leaves every pooled connection dead. get_many takes another, as
    eventsourcing's own recorders do: it answered a dead one's OperationalError, and the gateway
    INTERNAL to RegisterEnterprise (2 calls per restart of a test cluster under ERP load, one per
    connection of the registry's pool). Only this test's own backend is terminated."""
    settings = make_settings(tmp_path, "postgres")
    app = open_store(RegistryApplication, settings, POSTGRES_POOL_SIZE="1", POSTGRES_MAX_OVERFLOW="0")
    try:
        index = EnterpriseIndex(kind="town", value="张山子镇")
        index.change({"e1"}, set())
        app.save(index)
        with app.recorder.datastore.get_connection() as conn:  # type: ignore[attr-defined]
            pid = conn.info.backend_pid  # the pool's one connection
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            alive = "SELECT 1 FROM pg_stat_activity WHERE pid = %s"
            wait_for(lambda: admin.execute(alive, (pid,)).fetchone() is None, timeout=10, what="its end")
        assert app.get_many([index.id])[index.id].members == {"e1": None}
    finally:
        app.close()
        cleanup(settings)


def test_the_link_rows_and_the_console_s_reads_also_replace_a_dropped_connection(
    tmp_path: Path, infrastructure: dict[str, str]
) -> None:
    """The audit's read of a store's link rows and the console's page queries take another connection
    too: the first page after a PostgreSQL restart was an error."""
    settings = make_settings(tmp_path, "postgres")
    pool = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "0"}
    app = open_store(RegistryApplication, settings, **pool)
    console = open_store(ConsoleApplication, settings, **pool)
    try:
        index = EnterpriseIndex(kind="town", value="张山子镇")
        app.save(index)
        for store_app in (app, console):
            drop_the_pooled_connection(store_app)
        assert len(link_recorders.rows(app.recorder, 0) or []) == 1  # the save's one link row
        assert console.query("SELECT 1 AS one") == [{"one": 1}]
    finally:
        app.close()
        console.close()
        cleanup(settings)


def drop_the_pooled_connection(app: Any) -> None:
    with app.recorder.datastore.get_connection() as conn:
        pid = conn.info.backend_pid  # the pool's one connection
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        alive = "SELECT 1 FROM pg_stat_activity WHERE pid = %s"
        wait_for(lambda: admin.execute(alive, (pid,)).fetchone() is None, timeout=10, what="its end")
