"""The registry's records of the departments (endpoint, CA, credentials, receipt key), shared by every
pusher of the adapter: read again all together, in one call, once they are older than a TTL.

Each pusher used to ask for its own department every half second while it had jobs: twenty pushers
made forty registry calls a second at any filing rate, four a filing at 10 filings/s. One call per
TTL for all of them keeps the same freshness: a receipt key or an endpoint the operator changed
applies to the pushes made at most a TTL later.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

# How long the records are kept: a change applies within this.
RECORD_TTL = 0.5


class DepartmentRecords:
    """Department code → the registry's record of it (None: the registry knows no such department)."""

    def __init__(self, services: Any, ttl: float = RECORD_TTL) -> None:
        self.services, self.ttl = services, ttl
        self._records: dict[str, dict[str, Any]] = {}
        self._until = 0.0  # monotonic time the records are good until
        self._lock = threading.Lock()

    def get(self, code: str) -> dict[str, Any] | None:
        """The department's record, read again (every department's) when older than the TTL; the
        registry's errors propagate (the caller retries its push)."""
        with self._lock:  # one call when many pushers find the records old at once
            if self._until < time.monotonic():
                listed = self.services.call("registry", "list_departments")
                self._records = {d["code"]: d for d in listed}
                self._until = time.monotonic() + self.ttl
            return self._records.get(code)

    def answering(self, codes: Iterable[str]) -> int:
        """How many of these departments' pushers record an answer: all but those the records kept show
        without an endpoint (they pull their filings, and answer later); not read again for this."""
        with self._lock:
            return sum(1 for c in codes if (r := self._records.get(c)) is None or r.get("endpoint"))

    def forget(self) -> None:
        """The next get reads the registry again (a failure may mean the operator changed something)."""
        with self._lock:
            self._until = 0.0

    def keep(self, record: dict[str, Any]) -> None:
        """A record the registry just answered (a pinned receipt key) replaces the one kept."""
        with self._lock:
            self._records[record["code"]] = record
