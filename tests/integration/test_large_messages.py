"""A PostgreSQL connection that carried a large snapshot is closed, not pooled again: libpq keeps its
buffers at the largest message a connection ever carried, and a pool's connections each came to hold
a province-sized view's snapshot two or three times over."""

from __future__ import annotations

import ctypes
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.postgres import PostgresDatastore

from services.backbone import large_messages
from services.backbone.process import return_large_frees
from services.backbone.store import open_store
from services.notifications.application import NotificationsApplication
from services.notifications.queues import SendQueue
from tests.conftest import cleanup, make_settings

pytestmark = pytest.mark.integration
MiB = 1 << 20


class MallInfo(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in [
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        ]
    ]


def mapped() -> int:
    """Bytes the C allocator has handed out and not had back (libpq's buffers among them)."""
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo
    info = libc.mallinfo2()
    return int(info.hblkhd + info.uordblks)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[NotificationsApplication]:
    assert return_large_frees()  # as in every hub process
    settings = make_settings(tmp_path, "postgres")
    found = open_store(NotificationsApplication, settings)
    try:
        yield found
    finally:
        found.close()
        cleanup(settings)


def queue_of(entries: int) -> SendQueue:
    queue = SendQueue()
    queue.enqueue(entries={str(uuid.uuid4()): None for _ in range(entries)}, channel="sms")
    return queue


def snapshot(app: Any, queue: SendQueue) -> int:
    """Writes the queue's snapshot; how many bytes it was."""
    taken = SendQueue.Snapshot.take(queue)
    app.snapshots.put([taken])
    return len(app.snapshots.mapper.to_stored_event(taken).state)


def test_a_connection_that_wrote_or_read_a_large_snapshot_is_not_kept(app: NotificationsApplication) -> None:
    datastore = app.recorder.datastore
    assert isinstance(datastore, large_messages.SheddingDatastore)
    app.save(queue := queue_of(20))
    assert snapshot(app, queue) < large_messages.LARGE
    assert datastore.pool.get_stats().get("returns_bad", 0) == 0  # a small one: the connection is kept
    queue.enqueue(entries={str(uuid.uuid4()): None for _ in range(120_000)}, channel="sms")
    app.save(queue)
    before = mapped()  # the queue's 120,020 entries held
    assert snapshot(app, queue) > 4 * MiB
    assert mapped() - before < MiB  # the buffers went with the connection
    assert datastore.pool.get_stats().get("returns_bad", 0) == 1
    found = app.get_many([queue.id])[queue.id]  # read back (its latest snapshot): that connection goes too
    assert found.size() == 120_020
    del found
    assert mapped() - before < MiB
    assert datastore.pool.get_stats().get("returns_bad", 0) == 2
    assert app.get_many([queue.id], kept={queue.id: queue})[queue.id].size() == 120_020  # served on


def test_the_library_s_own_read_of_a_large_snapshot_sheds_it(app: NotificationsApplication) -> None:
    """eventsourcing's read of one aggregate (after a restart: the view is read from its snapshot) goes
    through the same datastore; its connection is not kept either, and reads of small ones are."""
    datastore = app.recorder.datastore
    with datastore.get_connection() as conn:
        rows_made_by = conn.row_factory
    app.save(queue := queue_of(20))
    snapshot(app, queue)
    shed = datastore.pool.get_stats().get("returns_bad", 0)
    assert app.snapshots.get(queue.id)  # a small snapshot read: the connection is pooled again
    assert datastore.pool.get_stats().get("returns_bad", 0) == shed
    queue.enqueue(entries={str(uuid.uuid4()): None for _ in range(120_000)}, channel="sms")
    app.save(queue)
    assert snapshot(app, queue) > 4 * MiB
    shed = datastore.pool.get_stats().get("returns_bad", 0)
    before = mapped()
    found = app.repository.get(queue.id)  # from its snapshot, through the library's own recorder
    assert found.size() == 120_020
    del found
    assert mapped() - before < MiB
    assert datastore.pool.get_stats().get("returns_bad", 0) == shed + 1
    with datastore.get_connection() as conn:  # a pooled connection makes rows as before
        assert conn.row_factory is rows_made_by
        with conn.cursor() as curs:
            curs.execute("SELECT 1 AS one")
            assert curs.fetchone() == {"one": 1}


def test_without_it_a_pooled_connection_keeps_what_it_carried(app: NotificationsApplication) -> None:
    """The measure above means something: the same write through a connection pooled again leaves the
    buffers allocated (the hub's behaviour before)."""
    library_class = PostgresDatastore
    app.recorder.datastore.__class__ = library_class
    app.save(big := queue_of(120_000))
    before = mapped()
    with large_messages.sending_large():  # said, but the library's own datastore does not listen
        size = snapshot(app, big)
    assert mapped() - before > size
