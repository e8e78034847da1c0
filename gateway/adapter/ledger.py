"""The adapter's writes to the filing ledger, batched: one RPC and one transaction for the answers
that twenty departments' pushers gathered meanwhile, instead of one of each per answer.

A pusher hands its answer over and waits until the filing service has stored it; only then does it
acknowledge the job. A crash between the two repeats the push, and the ledger ignores the repeat.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import Any

import structlog
from nameko.exceptions import RemoteError

from gateway.adapter.breaker import backoff
from gateway.rpc import Services
from services.backbone.amqp import CONNECTION_ERRORS
from services.backbone.errors import UnavailableError

log = structlog.get_logger(__name__)


class Stopping(Exception):
    """The adapter is shutting down before the answer was stored: the job stays unacknowledged."""


@dataclass
class _Pending:
    move: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    answer: dict[str, Any] = field(default_factory=dict)


class LedgerWriter:
    def __init__(self, services: Services, stop: threading.Event, batch: int = 200) -> None:
        self.services, self.stop, self.batch = services, stop, batch
        self._queue: queue.Queue[_Pending] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)

    def start(self) -> LedgerWriter:
        self._thread.start()
        return self

    def record(self, move: dict[str, Any]) -> dict[str, Any]:
        """Stores one ledger move (enterprise_id, version, department, outcome, reason, receipt);
        blocks until stored. The answer holds the entry's new state, or the error that refused it."""
        pending = _Pending(move)
        self._queue.put(pending)
        while not pending.done.wait(0.5):
            if self.stop.is_set():
                raise Stopping
        return pending.answer

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                first = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            batch = [first]
            while len(batch) < self.batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[_Pending]) -> None:
        attempt = 0
        while not self.stop.is_set():
            attempt += 1
            try:
                answers = self.services.call("filing", "record_deliveries", [p.move for p in batch])
            except (*CONNECTION_ERRORS, TimeoutError, RemoteError, UnavailableError) as error:
                # the filing service restarting, or a transient failure there: the same batch again
                log.warning("ledger_retry", moves=len(batch), attempt=attempt, error=repr(error))
                self.stop.wait(backoff(attempt, cap=5.0))
                continue
            for pending, answer in zip(batch, answers, strict=True):
                pending.answer = answer
                pending.done.set()
            return
