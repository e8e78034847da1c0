"""The one loop of a long-lived worker thread (consumer, relay, fan-out, pusher, timers): run a step
until asked to stop; when the broker or the database goes away, or anything else fails, log it, let
the worker close what it had open, wait (doubling, up to a cap) and go again. The thread never dies of
a failure: what it had in hand was not acknowledged and comes back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import structlog

from services.backbone import store_outage
from services.backbone.amqp import CONNECTION_ERRORS

log = structlog.get_logger(__name__)
T = TypeVar("T")


class Stopping(Exception):
    """Raised inside a step to end the loop at once (the worker saw its stop signal mid-step)."""


def run_until_stopped(
    step: Callable[[], Any],
    stop: threading.Event,
    *,
    what: str,
    on_failure: Callable[[], Any] | None = None,
    retryable: tuple[type[BaseException], ...] = CONNECTION_ERRORS,
    first_pause: float = 0.5,
    max_pause: float = 10.0,
    **fields: Any,
) -> None:
    """Calls `step` again and again until `stop` is set. A step that returns resets the pause; one that
    fails is logged as `<what>_reconnecting` (a `retryable` error, or the database out of reach: one
    line) or `<what>_failed` (anything else, a fault: with its traceback), then `on_failure` runs and
    the loop waits before the next step.
    A step that ran longer than `max_pause` before failing (a connection that served for a while) counts
    as a fresh failure: the pause starts again from `first_pause`."""
    pause = first_pause
    while not stop.is_set():
        started = time.monotonic()
        try:
            step()
            pause = first_pause
        except Stopping:
            return
        except Exception as error:  # noqa: BLE001 - the worker outlives whatever failed
            if time.monotonic() - started > max_pause:
                pause = first_pause
            if isinstance(error, retryable) or store_outage.unreachable(error):
                log.warning(f"{what}_reconnecting", error=repr(error), **fields)
            else:
                log.exception(f"{what}_failed", **fields)
            if on_failure is not None:
                try:
                    on_failure()
                except Exception:  # noqa: BLE001 - closing what a failure broke may fail too
                    log.debug(f"{what}_cleanup_failed", exc_info=True, **fields)
            stop.wait(pause)
            pause = min(pause * 2, max_pause)


def retry_until_done(
    operation: Callable[[], T],
    stop: threading.Event,
    *,
    what: str,
    retryable: tuple[type[BaseException], ...] = CONNECTION_ERRORS,
    first_pause: float = 0.2,
    max_pause: float = 5.0,
    **fields: Any,
) -> T | None:
    """The result of `operation`, tried again after each failure (logged as in `run_until_stopped`)
    until it succeeds; None if `stop` is set first."""
    pause = first_pause
    attempt = 0
    while not stop.is_set():
        attempt += 1
        try:
            return operation()
        except Exception as error:  # noqa: BLE001 - the same operation again, after a pause
            if isinstance(error, retryable) or store_outage.unreachable(error):
                log.warning(f"{what}_retry", attempt=attempt, error=repr(error), **fields)
            else:
                log.exception(f"{what}_failed", attempt=attempt, **fields)
            stop.wait(pause)
            pause = min(pause * 2, max_pause)
    return None
