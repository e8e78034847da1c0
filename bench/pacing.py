"""The pure parts of `make chaos`'s ERP load: when each call starts, what is due when, what was
counted, and what the hub owes at the end. Nothing here reads a clock of its own (each takes `now` or a
clock) or does I/O, so tests/unit/test_chaos_pacing.py holds them without a hub and without timing.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Schedule:
    """Start times `rate` a second, shared by worker threads (a token bucket kept as the next start):
    each `reserve()` takes the next start and answers how long to wait for it, so the offered rate
    stays at `rate` however slow the calls are, as long as a worker is free. After a stall with every
    worker busy, up to `burst` missed starts are made at once and the older ones are dropped (counted):
    a fault is not followed by a flood the ERP would never have sent."""

    def __init__(self, rate: float, burst: int = 1, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a schedule needs a positive rate and a burst of at least one start")
        self.rate, self.burst, self._clock = rate, burst, clock
        self._next: float | None = None
        self._lock = threading.Lock()
        self.dropped = 0  # starts missed because no worker was free

    def reserve(self) -> float:
        """Seconds until the start this caller took (0 when it is due already)."""
        with self._lock:
            now = self._clock()
            if self._next is None:
                self._next = now
            earliest = now - (self.burst - 1) / self.rate
            if self._next < earliest:
                self.dropped += round((earliest - self._next) * self.rate)
                self._next = earliest
            start, self._next = self._next, self._next + 1 / self.rate
            return max(0.0, start - now)


class Backlog(Generic[T]):
    """Items due at a time (an enterprise to file a second after its registration, one to try again
    after a refusal), earliest first; thread-safe."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, T]] = []
        self._order = itertools.count()  # equal times come out in the order they went in
        self._lock = threading.Lock()

    def put(self, item: T, due: float) -> None:
        with self._lock:
            heapq.heappush(self._heap, (due, next(self._order), item))

    def take(self, now: float) -> T | None:
        """The earliest item due by `now`, or None."""
        with self._lock:
            if self._heap and self._heap[0][0] <= now:
                return heapq.heappop(self._heap)[2]
            return None

    def clear(self) -> list[T]:
        with self._lock:
            items = [item for _, _, item in sorted(self._heap)]
            self._heap.clear()
            return items

    def __len__(self) -> int:
        with self._lock:
            return len(self._heap)


REGISTRATION, FILING = "registration", "filing"


@dataclass
class Tally:
    """What the ERP did: each operation started and completed (with its time), each call refused
    (by status code). An operation is completed only when the hub answered OK to every call in it."""

    started: dict[str, list[float]] = field(default_factory=lambda: {REGISTRATION: [], FILING: []})
    completed: dict[str, list[float]] = field(default_factory=lambda: {REGISTRATION: [], FILING: []})
    refused: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def start(self, kind: str, at: float) -> None:
        with self._lock:
            self.started[kind].append(at)

    def complete(self, kind: str, at: float) -> None:
        with self._lock:
            self.completed[kind].append(at)

    def refuse(self, code: str) -> None:
        with self._lock:
            self.refused[code] += 1

    def refusals(self) -> int:
        with self._lock:
            return sum(self.refused.values())

    def count(
        self, kind: str, since: float = float("-inf"), until: float = float("inf"), done: bool = True
    ) -> int:
        """Operations of `kind` completed (or, with done=False, started) in [since, until)."""
        times = (self.completed if done else self.started)[kind]
        with self._lock:
            return sum(1 for t in times if since <= t < until)

    def first_after(self, kind: str, since: float) -> float | None:
        with self._lock:
            return next((t for t in self.completed[kind] if t > since), None)

    def rates(self, since: float, until: float) -> dict[str, dict[str, float]]:
        """Per second over [since, until): operations started (offered) and completed (achieved)."""
        span = max(until - since, 1e-9)
        return {
            what: {
                kind: round(self.count(kind, since, until, done) / span, 2) for kind in (REGISTRATION, FILING)
            }
            for what, done in (("offered", False), ("achieved", True))
        }


def combined_rate(registrations: float, filings: float) -> float:
    """Enterprises a second the hub takes through both operations at capacity: each costs a
    registration and a filing of the same hub's time, so the times add (1/R + 1/F per enterprise)."""
    if registrations <= 0 or filings <= 0:
        raise ValueError("capacities must be positive")
    return 1 / (1 / registrations + 1 / filings)


def owed(
    *,
    registered: set[Any],
    accepted_registrations: set[Any],
    views: set[Any],
    submitted: set[Any],
    accepted_filings: set[Any],
    delivered: set[Any],
) -> dict[str, set[Any]]:
    """What the hub owes and has not done, by identity (never by count, so a filing that arrived but
    whose answer was lost cannot stand in for an accepted one that did not): every registration the
    registry stored or answered OK lacks its filing view; every filing the filing service stored or
    answered OK never reached the platform. Ids: filing view ids for registrations, filing ids
    (enterprise, version) for filings."""
    return {
        "registrations": (registered | accepted_registrations) - views,
        "filings": (submitted | accepted_filings) - delivered,
    }


def twice(ids: Iterable[Any]) -> int:
    """How many of these ids are there more than once (each repeat counts)."""
    seen = list(ids)
    return len(seen) - len(set(seen))


def chosen(names: Iterable[str], wanted: str | None) -> list[str]:
    """The faults named (comma-separated, each a case-insensitive part of a fault's name), in their own
    order; all of them without `wanted`. A part that names no fault is an error, not a smaller run."""
    names = list(names)
    if not wanted:
        return names
    terms = [t.strip().lower() for t in wanted.split(",") if t.strip()]
    unknown = [t for t in terms if not any(t in n.lower() for n in names)]
    if unknown or not terms:
        raise ValueError(
            f"no fault is named like {', '.join(unknown) or repr(wanted)}; faults: {', '.join(names)}"
        )
    return [n for n in names if any(t in n.lower() for t in terms)]
