"""How psycopg waits for PostgreSQL in a nameko service (eventlet): briefly on the real socket, then
through eventlet's hub.

psycopg only recognises gevent. Left to itself under eventlet it picks its blocking C wait, and every
green thread of the service stops for as long as any one query runs (FIELD_NOTES: a ping waited 1.7 s
behind a 2 s query). Its green `select()` wait (FIELD_NOTES' fix) goes through the hub on every wait:
register the socket, switch, switch back; most of the hub's queries answer sooner than that trip
costs. So each wait first polls the socket itself for up to SPIN_MS, and only a query still running then
is waited for through the hub: a long query holds the other green threads up for SPIN_MS at most.

Measured, a transaction of four round trips in an eventlet process: 163-168 µs of the process's CPU
with the blocking C wait, 249 µs with the green select(), 192-218 µs this way. In the hub, CPU per
call of the service that takes it (python -m bench.single_calls): the registry 2.30 ms blocking,
3.06-3.15 green, 2.42-2.46 this way; dangers 2.25-2.30, 3.07-3.17, 2.37-2.46.

Why 5 ms: under 24 concurrent ERP threads (bench.chaos's capacity, registrations / filings a second)
the blocking wait took 49.3-51.3 / 58.7-59.9, a 1 ms spin only 39.1-40.2 / 50.4-51.4 (a write that
waits for the events table's lock went through the hub, and more transactions then contended for
it), a 5 ms spin 51.6 / 60.4.
"""

from __future__ import annotations

from typing import Any

SPIN_MS = 5  # milliseconds a wait blocks the process on the socket before it yields to eventlet's hub


def install() -> bool:
    """Makes psycopg wait this way when eventlet has made `select` green (a nameko service); else
    leaves psycopg's choice alone. True when installed."""
    import eventlet.patcher
    from psycopg import waiting

    if not eventlet.patcher.is_monkey_patched("select"):
        return False
    from eventlet.green import select as green_select

    waiting.wait = _waiter(eventlet.patcher.original("select"), green_select, waiting.wait_select)
    return True


def _waiter(real: Any, green_select: Any, green_wait: Any) -> Any:
    from psycopg import errors
    from psycopg.waiting import READY_R, READY_W, WAIT_R, WAIT_W

    readable = real.POLLIN | real.POLLPRI | real.POLLERR | real.POLLHUP

    def wait(gen: Any, fileno: int, interval: float = 0.0, timeout: float | None = None) -> Any:
        """psycopg's wait protocol: each state the generator yields is awaited on `fileno`."""
        if timeout is not None:
            return green_wait(gen, fileno, interval, timeout)  # a bounded wait: psycopg's own, green
        try:
            state = next(gen)
            while True:
                poll = real.poll()
                poll.register(
                    fileno, (real.POLLIN if state & WAIT_R else 0) | (real.POLLOUT if state & WAIT_W else 0)
                )
                events = poll.poll(SPIN_MS)
                if events:
                    mask = events[0][1]
                    if mask & real.POLLNVAL:
                        raise errors.OperationalError("connection socket closed")
                    ready = (READY_R if mask & readable else 0) | (READY_W if mask & real.POLLOUT else 0)
                else:
                    ready = _green_ready(green_select, fileno, state, interval)
                state = gen.send(ready)
        except StopIteration as done:
            return done.value

    return wait


def _green_ready(select: Any, fileno: int, state: int, interval: float) -> int:
    from psycopg import errors
    from psycopg.waiting import READY_R, READY_W, WAIT_R, WAIT_W

    fds = (fileno,)
    readable, writable, failed = select.select(
        fds if state & WAIT_R else (), fds if state & WAIT_W else (), fds, interval
    )
    if failed:
        raise errors.OperationalError("connection socket closed")
    return (READY_R if readable else 0) | (READY_W if writable else 0)
