"""A service's store that cannot be reached now (PostgreSQL restarting, stopped, starting up) is an
outage the caller may wait out, not a fault of the hub: the service answers UnavailableError (the
gateway's UNAVAILABLE) and says so in one log line.

eventsourcing's recorders try a broken connection ten times, two seconds in all; what fails even so
is told apart from the hub's own faults by psycopg's error under eventsourcing's: no SQLSTATE (no
server answered: refused, closed, the pool timed out waiting for one), a connection's (class 08), or
the server's going down or coming up (57P01-57P03). A statement the server refused (a missing table,
a broken constraint, a cancelled query) stays a fault of the hub.
"""

from __future__ import annotations

import psycopg
from eventsourcing.persistence import PersistenceError

from services.backbone.errors import UnavailableError

# admin_shutdown, crash_shutdown, cannot_connect_now (SQLSTATE class 57 also holds query_canceled)
SERVER_GOING_OR_COMING = frozenset({"57P01", "57P02", "57P03"})
_PERSISTENCE = (PersistenceError, psycopg.Error)


def unreachable(error: BaseException) -> bool:
    """Whether `error` (eventsourcing's, or psycopg's) says the database could not be reached."""
    current: BaseException | None = error
    for _ in range(5):  # eventsourcing's error, from psycopg's: a short chain
        if not isinstance(current, _PERSISTENCE):
            return False
        if isinstance(current, psycopg.InterfaceError):  # the connection is closed or lost
            return True
        if isinstance(current, psycopg.OperationalError):
            state = current.sqlstate
            return state is None or state.startswith("08") or state in SERVER_GOING_OR_COMING
        current = current.__cause__
    return False


def unavailable(service: str) -> UnavailableError:
    """What a call answers when its service's store cannot be reached (no database detail: the
    client can do nothing with it; the service's log has it)."""
    return UnavailableError("(store)", f"the {service} service's store cannot be reached now: try again")
