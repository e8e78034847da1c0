"""Events written with COPY (services.backbone.copy_events) are stored, numbered, locked and refused as
eventsourcing's own INSERT stores, numbers, locks and refuses them."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking
from eventsourcing.postgres import PostgresProcessRecorder

from services.backbone.copy_events import SMALL, CopyingProcessRecorder
from services.backbone.store import HubApplication, Processing, open_store
from services.registry.application import RegistryApplication
from services.registry.index import EnterpriseIndex
from tests.conftest import PG_URL, make_settings

pytestmark = pytest.mark.integration


def indexes(n: int, tag: str) -> list[EnterpriseIndex]:
    """n indexes of two events each (opened, changed)."""
    made = []
    for i in range(n):
        index = EnterpriseIndex(kind="town", value=f"{tag}{i}")
        index.change(added={f"{tag}{i}-a", f"{tag}{i}-b"}, removed=set())
        made.append(index)
    return made


def log(app: HubApplication) -> list[tuple[int, str, int, str, bytes]]:
    return [
        (n.id, str(n.originator_id), n.originator_version, n.topic, n.state)
        for n in app.recorder.select_notifications(start=1, limit=10_000)
    ]


@pytest.fixture
def stores(tmp_path: Path, infrastructure: dict[str, str]) -> Any:
    copying = open_store(RegistryApplication, make_settings(tmp_path / "copy", "postgres"))
    inserting = open_store(
        RegistryApplication, make_settings(tmp_path / "insert", "postgres"), HUB_COPY_EVENTS="false"
    )
    yield copying, inserting
    copying.close()
    inserting.close()


def test_the_same_saves_make_the_same_log_as_eventsourcing_s_insert(stores: Any) -> None:
    copying, inserting = stores
    assert isinstance(copying.recorder, CopyingProcessRecorder)  # (and writing links: a subclass)
    assert isinstance(inserting.recorder, PostgresProcessRecorder)
    assert not isinstance(inserting.recorder, CopyingProcessRecorder)
    pages = [indexes(3, "甲"), indexes(1, "乙"), indexes(250, "丙")]
    returned = []
    for page in pages:
        recordings = copying.save(*page)
        ids = [r.notification.id for r in recordings]
        stored = copying.recorder.select_notifications(start=min(ids), limit=len(ids))
        inserting.recorder.insert_events(
            [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state) for n in stored]
        )  # the very same stored events (their bytes, encrypted or not), by eventsourcing's INSERT
        returned.extend(r.notification.id for r in recordings)
    assert log(copying) == log(inserting)
    assert returned == [n[0] for n in log(copying)]  # the ids save() returned are the ids stored
    assert copying.repository.get(pages[2][7].id).members == pages[2][7].members


# A transaction of at most SMALL events goes in by one pipelined INSERT, a larger one by COPY: the
# tests below save a page of a few events, and one of SMALL more, to hold both paths to the same rules.
SIZES = pytest.mark.parametrize("others", [0, SMALL], ids=["pipelined", "copy"])


@SIZES
def test_a_version_saved_twice_is_refused_and_nothing_of_its_page_is_stored(stores: Any, others: int) -> None:
    copying, _ = stores
    [first] = indexes(1, "丁")
    copying.save(first)
    stale = copying.repository.get(first.id)
    first.change(added={"x"}, removed=set())
    copying.save(first)
    stale.change(added={"y"}, removed=set())  # the same version again, from an older copy
    fresh = indexes(1 + others, "戊")
    before = log(copying)
    with pytest.raises(IntegrityError):
        copying.save(*fresh, stale)
    assert log(copying) == before


@SIZES
def test_a_consumer_s_events_and_tracking_are_stored_together_or_not_at_all(stores: Any, others: int) -> None:
    copying, _ = stores

    def apply(position: int, tag: str) -> None:
        processing = Processing(Tracking("registry", position))
        processing.collect_events(*indexes(2 + others, tag))
        copying.record(processing)

    apply(7, "己")
    assert copying.recorder.max_tracking_id("registry") == 7
    before = log(copying)
    with pytest.raises(IntegrityError):
        apply(7, "庚")  # the same upstream position again: already applied
    assert log(copying) == before
    apply(8, "辛")
    assert copying.recorder.max_tracking_id("registry") == 8
    assert len(log(copying)) == len(before) + 2 * (2 + others)


def test_a_position_with_no_events_is_recorded_in_the_transaction(stores: Any) -> None:
    """A consumer's page that changed nothing in its store: the tracking record alone, refused twice."""
    copying, _ = stores
    copying.record(Processing(Tracking("dangers", 3)))
    with pytest.raises(IntegrityError):
        copying.record(Processing(Tracking("dangers", 3)))
    assert copying.recorder.max_tracking_id("dangers") == 3


def test_concurrent_transactions_number_their_events_in_commit_order(stores: Any) -> None:
    copying, _ = stores
    batches: dict[int, list[int]] = {}

    def writer(k: int) -> None:
        for round_ in range(5):
            recordings = copying.save(*indexes(40, f"w{k}r{round_}-"))
            batches[k * 10 + round_] = [r.notification.id for r in recordings]

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    ids = [n[0] for n in log(copying)]
    assert ids == sorted(ids) and len(ids) == len(set(ids)) == 4 * 5 * 80
    for numbers in batches.values():  # each transaction's ids are one run of the log, not interleaved
        assert numbers == list(range(numbers[0], numbers[0] + 80))


def test_a_save_after_its_pooled_connection_was_cut_is_stored_once(stores: Any) -> None:
    """PostgreSQL ended a connection idle in the pool (a restart, an idle timeout): the pool hands out a
    new one and the save is stored once. (A cut inside the save is the next test's: the retry's.)"""
    copying, _ = stores
    copying.save(*indexes(1, "壬"))
    with copying.recorder.datastore.get_connection() as conn:
        pid = conn.info.backend_pid
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    page = indexes(3, "癸")
    before = len(log(copying))
    copying.save(*page)
    assert len(log(copying)) == before + 6
    assert copying.repository.get(page[2].id).members == page[2].members


def test_a_save_whose_connection_is_cut_inside_its_transaction_is_made_again_once(
    stores: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL ends the connection between the table lock and the COPY (a restart mid-save): the
    recorder's retry makes the whole transaction again on a new connection; the events are stored once."""
    copying, _ = stores
    recorder = copying.recorder
    lock_table, locks = recorder._lock_table, []

    def cut_the_first_time(curs: Any) -> None:
        locks.append(curs.connection.info.backend_pid)
        if len(locks) == 1:
            with psycopg.connect(PG_URL, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (locks[0],))
        lock_table(curs)

    monkeypatch.setattr(recorder, "_lock_table", cut_the_first_time)
    page = indexes(3, "子")
    before = len(log(copying))
    copying.save(*page)
    assert len(locks) == 2 and locks[0] != locks[1]  # tried again, on another connection
    assert len(log(copying)) == before + 6
    assert copying.repository.get(page[2].id).members == page[2].members


def test_a_position_recorded_alone_is_stored_once(stores: Any) -> None:
    """A relay's or an idle consumer's position, written as one statement: the same one again is
    refused, a later one goes in."""
    copying, _ = stores
    copying.recorder.insert_tracking(Tracking("__relay__", 5))
    with pytest.raises(IntegrityError):
        copying.recorder.insert_tracking(Tracking("__relay__", 5))
    copying.recorder.insert_tracking(Tracking("__relay__", 9))
    assert copying.recorder.max_tracking_id("__relay__") == 9


@SIZES
def test_a_fault_before_the_events_are_sent_stores_nothing_of_the_transaction(
    stores: Any, others: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault of the hub's own (not the database refusing) between the tracking record and the events:
    the transaction is rolled back, so no consumer's position is recorded without its effects."""
    copying, _ = stores
    recorder = copying.recorder
    lock_table = recorder._lock_table

    def fault_after_the_lock(curs: Any) -> None:
        lock_table(curs)
        raise RuntimeError("a fault of the hub")

    monkeypatch.setattr(recorder, "_lock_table", fault_after_the_lock)
    processing = Processing(Tracking("registry", 41))
    processing.collect_events(*indexes(1 + others, "丑"))
    before = log(copying)
    with pytest.raises(RuntimeError):
        copying.record(processing)
    assert copying.recorder.max_tracking_id("registry") in (None, 0)
    assert log(copying) == before
