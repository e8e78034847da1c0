"""A PostgreSQL connection that carried a large message is closed when given back, not pooled again.

libpq grows a connection's send and receive buffers to the largest message it has carried and keeps
them for the connection's life (measured: a 20 MB row written and read back left 97 MB allocated to
the connection until it closed; tests/integration/test_large_messages.py). A province's large views
are snapshotted now and then (the notifications directory of 100,000 names, a send queue of a hundred
thousand waiting messages: megabytes of encrypted JSON each), and a pool hands each save to the
connection next in line: in turn each connection of the pool came to hold buffers of a few snapshots'
size. The notifications stream process at 85,000 enterprises held 88 MB of its 145 MiB in large
blocks of the C allocator that no Python object owned.

A snapshot of LARGE or more is written through a connection closed after it, and the hub's own reads
of many aggregates (read_many) close theirs when a row read was that large; the pool opens a new one
when it needs one (a snapshot of that size is written once in thousands of events: the reconnection is
nothing beside it). eventsourcing's own read of one aggregate's snapshot weighs the rows it fetches
(a row factory for that read alone) and sheds its connection the same way: a large view is read that
way once after each restart.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresDatastore

from services.backbone.library import become

LARGE = 1 << 20  # bytes in one row: events are a few KB; only snapshots of province-sized views reach it

_state = threading.local()  # this thread's block in hand ([carried LARGE]), whether it sends or weighs one


def carried(sizes: Iterable[int]) -> None:
    """The rows the connection in hand (this thread's block) just read were these sizes."""
    block = getattr(_state, "block", None)
    if block is not None and max(sizes, default=0) >= LARGE:
        block[0] = True


@contextmanager
def sending_large() -> Iterator[None]:
    """The connections of the blocks opened inside (a retry's too) are closed when given back."""
    _state.sending = getattr(_state, "sending", 0) + 1
    try:
        yield
    finally:
        _state.sending -= 1


@contextmanager
def weighing() -> Iterator[None]:
    """The rows the connections of the blocks opened inside fetch are weighed (carried) as they come."""
    _state.weighing = getattr(_state, "weighing", 0) + 1
    try:
        yield
    finally:
        _state.weighing -= 1


def _weighed(factory: Any, block: list[bool]) -> Any:
    """A psycopg row factory making rows as `factory` does, marking the block when a value is LARGE."""

    def per_cursor(cursor: Any) -> Any:
        make = factory(cursor)

        def row(values: Sequence[Any]) -> Any:
            if not block[0] and any(isinstance(v, bytes | memoryview) and len(v) >= LARGE for v in values):
                block[0] = True
            return make(values)

        return row

    return per_cursor


class SheddingDatastore(PostgresDatastore):
    """eventsourcing's datastore, closing a connection that carried a large row instead of pooling it
    again (the pool makes a new one when it needs one)."""

    @contextmanager
    def get_connection(self) -> Iterator[Any]:
        outer = getattr(_state, "block", None)
        block = [getattr(_state, "sending", 0) > 0]
        with super().get_connection() as conn:
            _state.block = block
            factory = conn.row_factory
            if getattr(_state, "weighing", 0) > 0:
                conn.row_factory = _weighed(factory, block)  # this block's cursors only
            try:
                yield conn
            finally:
                _state.block = outer
                if block[0]:
                    conn.close()
                elif conn.row_factory is not factory:
                    conn.row_factory = factory


class SheddingSnapshotRecorder(PostgresAggregateRecorder):
    """The snapshot table's recorder: a large snapshot is written, or read, through a connection closed
    after it."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        large = max((len(s.state) for s in stored_events), default=0) >= LARGE
        with sending_large() if large else nullcontext():
            return super().insert_events(stored_events, **kwargs)

    def select_events(self, originator_id: Any, **kwargs: Any) -> Sequence[StoredEvent]:
        with weighing():  # the snapshot table's rows only: events are read without the per-row check
            return super().select_events(originator_id, **kwargs)


def attach(datastore: Any, snapshots: Any) -> None:
    """The hub's PostgreSQL datastore and its snapshot recorder made shedding (in place)."""
    if type(datastore) is PostgresDatastore:
        become(datastore, SheddingDatastore)
    if type(snapshots) is PostgresAggregateRecorder:
        become(snapshots, SheddingSnapshotRecorder)
