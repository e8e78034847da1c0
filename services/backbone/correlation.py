"""The correlation id that ties a gRPC call to every event and message it causes."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

_current: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="")


def current() -> str:
    """The correlation id in force, or a fresh one if none is bound."""
    return _current.get() or new()


def new() -> str:
    return uuid.uuid4().hex


@contextmanager
def bound(correlation_id: str | None) -> Iterator[str]:
    """Binds a correlation id (a fresh one when None) for the duration of the block."""
    value = correlation_id or new()
    token = _current.set(value)
    try:
        yield value
    finally:
        _current.reset(token)
