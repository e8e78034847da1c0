"""A service's store that cannot be reached now (PostgreSQL restarting, stopped, starting up) is an
outage the caller may wait out, not a fault of the hub: the service answers UnavailableError (the
gateway's UNAVAILABLE) and says so in one log line. So is another service it calls that nothing can
take calls for now (`peer_unreachable`: RabbitMQ restarting, the service's queue not back yet).

eventsourcing's recorders try a broken connection ten times, two seconds in all; what fails even so
is told apart from the hub's own faults by psycopg's error under eventsourcing's: no SQLSTATE (no
server answered: refused, closed, the pool timed out waiting for one), a connection's (class 08), or
the server's going down or coming up (57P01-57P03). A statement the server refused (a missing table,
a broken constraint, a cancelled query) stays a fault of the hub.
"""

from __future__ import annotations

import psycopg
from amqp.exceptions import ConnectionError as AmqpConnectionError
from eventsourcing.persistence import PersistenceError
from kombu.exceptions import OperationalError as KombuOperationalError
from nameko.exceptions import UnknownService

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


def peer_unreachable(error: BaseException) -> bool:
    """Whether `error`, raised in a service calling another over RPC (dangers → riskpoints, riskpoints →
    registry), says the call could not get through now: no queue takes the other's calls (nameko's
    UnknownService) or the broker connection broke (py-amqp's, kombu's). A bare OSError is not
    counted: in a service it may be the hub's own (a file it could not write)."""
    return isinstance(error, (UnknownService, AmqpConnectionError, KombuOperationalError))


def outage(error: BaseException) -> str | None:
    """The log event of an outage `error` says there is (`store_unreachable`, `peer_unreachable`), or
    None when it is a fault of the hub."""
    if unreachable(error):
        return "store_unreachable"
    if peer_unreachable(error):
        return "peer_unreachable"
    return None


def answer(service: str, error: BaseException) -> UnavailableError | None:
    """What a call of `service` answers instead of `error` when that is an outage, else None. No detail
    of the database or the broker: the client can do nothing with it; the service's log has it."""
    kind = outage(error)
    if kind == "store_unreachable":
        return UnavailableError("(store)", f"the {service} service's store cannot be reached now: try again")
    if kind == "peer_unreachable":
        return UnavailableError(
            "(service)", f"the {service} service cannot reach another service now: try again"
        )
    return None
