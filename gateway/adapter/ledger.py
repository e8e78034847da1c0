"""The adapter's writes to the filing ledger, batched: one RPC and one transaction for the answers
that twenty departments' pushers gathered meanwhile, instead of one of each per answer. A batch is
written as soon as every filing in it has all its departments' answers (each answer says how many
departments its filing went to), or after a bounded wait when one is missing.

A pusher hands its answer over and goes on pushing its next job; it acknowledges a job only once the
filing service has stored the job's answer. A crash between the two repeats the push, and the ledger
ignores the repeat.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import structlog
from nameko.exceptions import RemoteError

from services.backbone.amqp import CONNECTION_ERRORS
from services.backbone.errors import UnavailableError
from services.backbone.reconnect import retry_until_done
from services.backbone.rpc_client import Services

log = structlog.get_logger(__name__)
TRANSIENT = (*CONNECTION_ERRORS, TimeoutError, RemoteError, UnavailableError)


@dataclass
class Pending:
    """One answer on its way to the ledger: `done` is set once it is stored (or refused, in `answer`)."""

    move: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    answer: dict[str, Any] = field(default_factory=dict)
    of: int = 0  # how many departments the move's filing went to (0: not known)


# How long the writer waits, after the first answer of a batch, for the others: twenty departments'
# answers to one filing come within a few milliseconds of each other, and without waiting the first
# of them went alone. LINGER when an answer does not say how many departments its filing went to;
# otherwise until every filing of the batch is complete, at most FILING_LINGER. (At a fixed 20 ms,
# 313 calls wrote 205 filings' answers in the department bench, a third of them complete: each
# extra call is a transaction, and a page for each consumer of the filing events downstream.)
LINGER = 0.02
FILING_LINGER = 0.1


class LedgerWriter:
    def __init__(
        self,
        services: Services,
        stop: threading.Event,
        batch: int = 200,
        linger: float = LINGER,
        filing_linger: float = FILING_LINGER,
    ) -> None:
        self.services, self.stop, self.batch, self.linger = services, stop, batch, linger
        self.filing_linger = filing_linger
        self._queue: queue.Queue[Pending] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)

    def start(self) -> LedgerWriter:
        self._thread.start()
        return self

    def submit(self, move: dict[str, Any], of: int = 0) -> Pending:
        """Hands one ledger move (enterprise_id, version, department, outcome, reason, receipt) to the
        writer and returns at once; the move is stored in the order it was handed over. `of`: how
        many departments the move's filing went to, when known."""
        pending = Pending(move, of=of)
        self._queue.put(pending)
        return pending

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                first = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            self._write(self._gather(first))

    def _gather(self, first: Pending) -> list[Pending]:
        """The batch that begins with `first`: the answers handed over until every filing in it is
        complete, or the wait is over."""
        started, batch = time.monotonic(), [first]
        missing: dict[tuple[Any, Any], int] = {}  # a filing's answers not in the batch yet
        unknown = False  # an answer that does not say how many its filing has: wait LINGER only
        pending: Pending | None = first
        while pending is not None:
            if pending.of <= 0:
                unknown = True
            else:
                key = (pending.move.get("enterprise_id"), pending.move.get("version"))
                missing[key] = missing.get(key, pending.of) - 1
                if missing[key] <= 0:
                    del missing[key]
            if len(batch) >= self.batch or (not missing and not unknown):
                break
            until = started + (self.linger if unknown else self.filing_linger)
            try:
                pending = self._queue.get(timeout=max(0.0, until - time.monotonic()))
            except queue.Empty:
                break
            batch.append(pending)
        return batch

    def _write(self, batch: list[Pending]) -> None:
        def record() -> list[dict[str, Any]]:
            answers: list[dict[str, Any]] = self.services.call(
                "filing", "record_deliveries", [p.move for p in batch]
            )
            if len(answers) != len(batch):
                raise ValueError(f"record_deliveries answered {len(answers)} of {len(batch)} moves")
            return answers

        # the filing service restarting, or a transient failure there: the same batch again; the
        # writer never dies, every pusher waits on it
        answers = retry_until_done(record, self.stop, what="ledger", retryable=TRANSIENT, moves=len(batch))
        if answers is None:
            return
        for pending, answer in zip(batch, answers, strict=True):
            pending.answer = answer
            pending.done.set()
