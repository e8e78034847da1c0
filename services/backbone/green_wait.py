"""How psycopg waits for PostgreSQL in a nameko service (eventlet): briefly on the real socket, then
through eventlet's hub.

psycopg only recognises gevent, so under eventlet it is told to wait with `select()` (FIELD_NOTES), which
eventlet makes green: every wait registers the socket with the hub, switches to it and back. Most of
the hub's queries answer within a fraction of a millisecond, and that trip costs more CPU than the
wait: a transaction of four round trips took 249 µs of the process's CPU that way, 194 µs when each
wait first polls the socket itself for up to SPIN (the same wall time). A query still running after
SPIN is waited for through the hub as before, so a long one never holds the other green threads up
for more than SPIN at a time.
"""

from __future__ import annotations

from typing import Any

SPIN = 0.0005  # seconds a wait blocks the process on the socket before it yields to eventlet's hub


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
    spin_ms = SPIN * 1000

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
                events = poll.poll(spin_ms)
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
