"""Read-your-writes across the hub's eventual seams: what a write stored, and waiting until a reader has
applied it.

A service's store numbers its events (notification ids). A write answers with the id of the last event
it stored that leaves the service (a position per service); a service that keeps views of another's
events records how far it has applied each upstream (its tracking position). A reader that must see a
write (filing compiling a register right after an import) waits until its position for that upstream
reaches the write's, a bounded while, and says so clearly past the bound.

Positions travel as a consistency token, "riskpoints:1234.registry:56": the gateway returns one after
each write (trailing metadata x-hub-consistency-token) and remembers the latest per enterprise, so a
compile through the same gateway waits for the caller's writes without being asked; a client that
spreads its calls over several gateways sends the token back with CompileRegister. A write's token
covers the enterprise's earlier writes through that gateway and what the token sent with the write
covered, so the last token a client received is the one to send.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any

from services.backbone.errors import UnavailableError, ValidationError

TOKEN_HEADER = "x-hub-consistency-token"
ANSWER_KEY = "_written"  # where a service's RPC answer carries its positions
_TOKEN = re.compile(r"[a-z]{1,32}:[0-9]{1,18}(\.[a-z]{1,32}:[0-9]{1,18}){0,15}")
Positions = dict[str, int]

# -- the writing service: what this worker stored -----------------------------------------------------
WRITTEN: ContextVar[Positions | None] = ContextVar("written", default=None)


def note_recordings(service: str, recordings: Iterable[Any]) -> None:
    """Remembers, for the RPC answer, the last stored event of this save that leaves the service."""
    written = WRITTEN.get()
    if written is None:
        return
    last = max(
        (
            r.notification.id
            for r in recordings
            if getattr(type(r.domain_event), "published", True) and r.notification.id is not None
        ),
        default=0,
    )
    if last > written.get(service, 0):
        written[service] = last


def merge(*many: Positions) -> Positions:
    merged: Positions = {}
    for positions in many:
        for service, n in positions.items():
            merged[service] = max(merged.get(service, 0), int(n))
    return merged


# -- the token ----------------------------------------------------------------------------------------
def encode(positions: Positions) -> str:
    return ".".join(f"{s}:{n}" for s, n in sorted(positions.items()) if n > 0)


def decode(token: str, field: str = TOKEN_HEADER) -> Positions:
    """The positions a token names; ValidationError naming the field when it is not one the hub gave."""
    if not token:
        return {}
    if not _TOKEN.fullmatch(token):
        raise ValidationError(field, "not a consistency token this hub gave")
    return merge(*({s: int(n)} for s, n in (part.split(":") for part in token.split("."))))


# -- the gateway: the writes of each enterprise, and of the call in hand ------------------------------
class Remembered:
    """The latest positions each enterprise's writes reached, through this gateway (bounded, LRU)."""

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self._by_enterprise: OrderedDict[str, Positions] = OrderedDict()
        self._lock = threading.Lock()

    def note(self, enterprise: str, positions: Positions) -> None:
        if not positions:
            return
        with self._lock:
            merged = merge(self._by_enterprise.pop(enterprise, {}), positions)
            self._by_enterprise[enterprise] = merged
            while len(self._by_enterprise) > self.limit:
                self._by_enterprise.popitem(last=False)
        # the answer's token covers this write and the enterprise's earlier ones through this gateway:
        # the last token a client received is enough to send back, whichever gateway it goes to
        _CALL.positions = merge(getattr(_CALL, "positions", {}), merged)

    def of(self, enterprise: str) -> Positions:
        with self._lock:
            return dict(self._by_enterprise.get(enterprise, {}))


_CALL = threading.local()  # the positions the writes of the gRPC call in hand (this thread) reached


def answer_token(sent: Positions) -> str:
    """The token of the call in hand's answer: what its writes reached, with what the token the caller
    sent covered (a client spreading its calls over gateways keeps one token covering them all); empty
    when the call wrote nothing."""
    written = take_call_positions()
    return encode(merge(sent, written)) if written else ""


def take_call_positions() -> Positions:
    """What the writes of the gRPC call in hand reached; forgotten once taken."""
    positions: Positions = getattr(_CALL, "positions", {})
    _CALL.positions = {}
    return positions


# -- the reader: waiting until it has applied them -----------------------------------------------------
def wait_until_applied(
    position_of: Callable[[str], int], wanted: Positions, timeout: float, pause: float = 0.02
) -> None:
    """Returns once `position_of(upstream)` reaches each wanted position; UnavailableError (try again)
    naming how far it got when `timeout` passes first."""
    deadline = time.monotonic() + timeout
    while True:
        behind = {s: (position_of(s), n) for s, n in wanted.items() if position_of(s) < n}
        if not behind:
            return
        if time.monotonic() >= deadline:
            where = ", ".join(f"{s} at {got} of {n}" for s, (got, n) in sorted(behind.items()))
            raise UnavailableError(
                TOKEN_HEADER, f"the register is not up to date with your writes yet ({where}): try again"
            )
        time.sleep(pause)
        pause = min(pause * 2, 0.25)
