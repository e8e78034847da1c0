"""Signed-in users: a session per sign-in, kept on the server, named by a random cookie.

The cookie carries nothing but the session's random name (HttpOnly, SameSite=Lax); the department's
or auditor's token is checked once at sign-in and never stored in the browser. Every form that acts
carries the session's CSRF token, compared in constant time.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

COOKIE = "hub_console"
LOGIN_COOKIE = "hub_console_login"  # the sign-in form's double-submit token (no session yet)
IDLE_SECONDS = 8 * 3600
# A session is as good as the credential it was opened with: checked again at most this long after the
# last check, so a token issued anew, a department removed or an auditors' token changed ends the
# sessions opened with the old one on their next page (as the gateway's own 0.5 s credential cache).
RECHECK_SECONDS = 1.0
FAILURES_ALLOWED = 5  # wrong tokens from one address within the window, then a pause
FAILURE_WINDOW = 300.0


@dataclass
class Session:
    """Who is signed in: a town office or a department (by its code), or an auditor."""

    role: str  # "office", "department" or "auditor"
    name: str  # what the header shows: the department's name, or 审计人员
    department: str = ""
    town: str = ""
    kind: str = ""
    audit_token: str = ""  # an auditor's: the audit endpoint checks it on each call
    token: str = ""  # a department's: checked again (RECHECK_SECONDS); in memory only, never stored
    checked: float = field(default_factory=time.monotonic)
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    seen: float = field(default_factory=time.monotonic)

    def csrf_ok(self, given: str) -> bool:
        return bool(given) and hmac.compare_digest(given.encode(), self.csrf.encode())

    def due(self, now: float | None = None) -> bool:
        """Whether its credential is to be checked again before this request is served."""
        return (time.monotonic() if now is None else now) - self.checked >= RECHECK_SECONDS


class Sessions:
    """The console's sessions (in memory: a restart signs everyone out), and sign-in throttling."""

    def __init__(self, idle: float = IDLE_SECONDS) -> None:
        self.idle = idle
        self._by_id: dict[str, Session] = {}
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def open(self, session: Session) -> str:
        sid = secrets.token_urlsafe(32)
        with self._lock:
            self._by_id[sid] = session
            now = time.monotonic()
            for old in [k for k, s in self._by_id.items() if now - s.seen > self.idle]:
                del self._by_id[old]
        return sid

    def get(self, sid: str) -> Session | None:
        with self._lock:
            session = self._by_id.get(sid)
            if session is None:
                return None
            now = time.monotonic()
            if now - session.seen > self.idle:
                del self._by_id[sid]
                return None
            session.seen = now
            return session

    def close(self, sid: str) -> None:
        with self._lock:
            self._by_id.pop(sid, None)

    def throttled(self, address: str) -> bool:
        """Whether this address has given too many wrong tokens lately."""
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(address, []) if now - t < FAILURE_WINDOW]
            self._failures[address] = recent
            return len(recent) >= FAILURES_ALLOWED

    def failed(self, address: str) -> None:
        with self._lock:
            self._failures.setdefault(address, []).append(time.monotonic())
