"""Optimistic concurrency: a command that lost a race on an aggregate version runs again, afresh."""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from eventsourcing.persistence import RecordConflictError

from services.backbone.errors import ConflictError

F = TypeVar("F", bound=Callable[..., Any])
ATTEMPTS = 25
MAX_PAUSE = 0.25  # seconds; jittered exponential backoff up to this


def retried(fn: F) -> F:
    """Runs the command again when its save conflicts with a concurrent one (same index, same table).

    Index aggregates are shared by every enterprise of a town, industry or department, so concurrent
    registrations there do collide (about two retries per registration with 8 writers on one town,
    measured on SQLite); the jittered backoff spreads them. Each attempt re-reads everything, so the
    retry decides on current state: a duplicate registration that lost the race is then answered as a
    duplicate, not as a conflict.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(ATTEMPTS):
            try:
                return fn(*args, **kwargs)
            except RecordConflictError:
                time.sleep(random.uniform(0, min(0.002 * 2**attempt, MAX_PAUSE)))  # jitter, not crypto
        raise ConflictError(
            "(aggregate)", f"still conflicting with concurrent changes after {ATTEMPTS} tries"
        )

    return wrapper  # type: ignore[return-value]
