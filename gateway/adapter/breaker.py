"""A circuit breaker per department: stop hammering a platform that keeps failing."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

import grpc

# What a platform may answer that is worth another try: it is down, slow, busy, or failed for a moment.
TRANSIENT = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN,
}


@dataclass
class CircuitBreaker:
    """Closed until `threshold` failures in a row; then open for `cooldown` seconds (doubling up
    to `max_cooldown` while probes keep failing); a success closes it."""

    threshold: int = 3
    cooldown: float = 1.0
    max_cooldown: float = 30.0
    failures: int = 0
    opened_until: float = 0.0
    _current_cooldown: float = field(default=0.0, repr=False)

    @property
    def state(self) -> str:
        if self.failures < self.threshold:
            return "closed"
        return "open" if time.monotonic() < self.opened_until else "half-open"

    def wait_time(self) -> float:
        """Seconds to wait before the next attempt may be made."""
        return max(self.opened_until - time.monotonic(), 0.0) if self.state == "open" else 0.0

    def success(self) -> None:
        self.failures, self.opened_until, self._current_cooldown = 0, 0.0, 0.0

    def failure(self) -> None:
        self.failures += 1
        if self.failures >= self.threshold:
            self._current_cooldown = min(max(self._current_cooldown * 2, self.cooldown), self.max_cooldown)
            self.opened_until = time.monotonic() + self._current_cooldown


def backoff(attempt: int, base: float = 0.2, cap: float = 10.0) -> float:
    """Exponential backoff with full jitter (attempt counts from 1)."""
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))
