"""Streaming gateway methods: the correlation id, error mapping and metrics of `grpc_method`, for
methods that take a stream of requests and yield responses; and the inbox such a method reads."""

from __future__ import annotations

import functools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import grpc
import structlog

from services.backbone import consistency, correlation
from services.backbone.edge.calls import CORRELATION_HEADER, answering, metadata

log = structlog.get_logger(__name__)
F = TypeVar("F", bound=Callable[..., Iterator[Any]])
T = TypeVar("T")


def grpc_stream(fn: F) -> F:
    """Wraps `fn(self, request_iterator, context, cid)`, a generator of responses: the caller's
    correlation id (or a new one) goes back in the initial metadata and is passed to the body,
    which binds it around its service calls (a generator may run across threads, a context may not)."""

    @functools.wraps(fn)
    def wrapper(self: Any, request_iterator: Iterator[Any], context: grpc.ServicerContext) -> Iterator[Any]:
        cid = metadata(context).get(CORRELATION_HEADER) or correlation.new()
        with answering(fn.__name__, context, cid, correlation_id=cid):
            context.send_initial_metadata(((CORRELATION_HEADER, cid),))
            consistency.take_call_positions()
            sent = consistency.decode(metadata(context).get(consistency.TOKEN_HEADER, ""))
            yield from fn(self, request_iterator, context, cid)
            token = consistency.answer_token(sent)
            if token:  # what a later read must wait for to see this stream's writes
                context.set_trailing_metadata(((consistency.TOKEN_HEADER, token),))

    return wrapper  # type: ignore[return-value]


class Inbox:
    """Items of a client stream, read by a thread of their own so that the next page arrives while
    the current one is being saved. Holds at most about `capacity` items (flow control pushes
    back on the client beyond that)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: deque[Any] = deque()
        self._cond = threading.Condition()
        self._closed = self._abandoned = False
        self.error: BaseException | None = None

    def feed(self, requests: Iterable[T], items_of: Callable[[T], Iterable[Any]]) -> threading.Thread:
        def run() -> None:
            try:
                for request in requests:
                    batch = list(items_of(request))
                    with self._cond:
                        while len(self._items) >= self.capacity and not self._abandoned:
                            self._cond.wait()
                        if self._abandoned:
                            return
                        self._items.extend(batch)
                        self._cond.notify_all()
            except Exception as error:  # noqa: BLE001 - the client went away; the reader says so
                self.error = error
            finally:
                with self._cond:
                    self._closed = True
                    self._cond.notify_all()

        thread = threading.Thread(target=run, name="grpc-inbox", daemon=True)
        thread.start()
        return thread

    def take(self, limit: int, linger: float) -> list[Any]:
        """Up to `limit` items: waits for the first, then at most `linger` seconds for more.
        An empty list means the stream has ended."""
        page: list[Any] = []
        with self._cond:
            while not self._items and not self._closed:
                self._cond.wait()
            deadline: float | None = None
            while len(page) < limit:
                if self._items:
                    take = min(limit - len(page), len(self._items))
                    page.extend(self._items.popleft() for _ in range(take))
                    self._cond.notify_all()
                    continue
                if self._closed:
                    break
                deadline = deadline or time.monotonic() + linger
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
        return page

    def ended(self) -> bool:
        """Whether the client closed its stream and every item has been taken: the page just taken
        was the last."""
        with self._cond:
            return self._closed and not self._items and self.error is None

    def abandon(self) -> None:
        with self._cond:
            self._abandoned = True
            self._cond.notify_all()
