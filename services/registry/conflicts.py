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
ATTEMPTS = 8


def retried(fn: F) -> F:
    """Runs the command again when its save conflicts with a concurrent one (same index, same table).

    Each attempt re-reads everything, so the retry decides on current state: a duplicate registration
    that lost the race is then answered as a duplicate, not as a conflict.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(ATTEMPTS):
            try:
                return fn(*args, **kwargs)
            except RecordConflictError:
                time.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311 - jitter, not crypto
        raise ConflictError(
            "(aggregate)", f"still conflicting with concurrent changes after {ATTEMPTS} tries"
        )

    return wrapper  # type: ignore[return-value]
