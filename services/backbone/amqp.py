"""A blocking AMQP connection (py-amqp through kombu) for plain, thread-based processes, and py-amqp's
socket reads made with read-ahead in every hub process (`read_ahead`)."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import amqp
import amqp.transport
from kombu import Connection

PY_AMQP = "5.4.2"  # the py-amqp whose transport `read_ahead` and `corked` were written against
READ_AHEAD = 4096  # bytes asked of the socket at least (a small message whole; a large frame read as before)


def read_ahead() -> None:
    """py-amqp reads a frame as exactly the bytes it needs next: its 7-byte header, then its payload
    and end, each one recv() (and one trip through eventlet's hub in a nameko service). A message is
    three frames (method, header, body): six reads, where one read of what the socket holds gets them
    all. Its TCP transport already keeps what it read beyond a frame for the next (`_read_buffer`,
    restored on errors and timeouts): it is now asked for at least READ_AHEAD bytes. Not more: the
    transport slices what is left after each read out of a bytes object, so with 64 KiB the large pages
    of a bulk import were copied again for every header read (the import bench lost ~8% of its rate).
    Measured with an empty nameko RPC, 2 × 2 runs: 0.57-0.77 → 0.48-0.59 ms in the service and
    0.32-0.38 → 0.28-0.32 ms in the caller per call. The method is py-amqp's own (PY_AMQP) but for the
    size asked: tests/unit/test_library_seam.py holds the version and the original's reading line,
    tests/integration/test_amqp_read_ahead.py reads messages of every size through a real broker. TLS
    transports read through their own method: left as they are."""
    transport = amqp.transport.TCPTransport
    if getattr(transport._read, "read_ahead", False):
        return

    def _read(
        self: Any, n: int, initial: bool = False, _errnos: tuple[int, ...] = (errno.EAGAIN, errno.EINTR)
    ) -> bytes:
        recv = self._quick_recv
        rbuf = self._read_buffer
        try:
            while len(rbuf) < n:
                try:
                    s = recv(max(n - len(rbuf), READ_AHEAD))
                except OSError as exc:
                    if exc.errno in _errnos:
                        if initial and self.raise_on_initial_eintr:
                            raise TimeoutError() from None
                        continue
                    raise
                if not s:
                    raise OSError("Server unexpectedly closed connection")
                rbuf += s
        except BaseException:
            self._read_buffer = rbuf
            raise
        result, self._read_buffer = rbuf[:n], rbuf[n:]
        return result  # type: ignore[no-any-return]

    _read.read_ahead = True  # type: ignore[attr-defined]
    _read.original = transport._read  # type: ignore[attr-defined]  # for the seam test
    transport._read = _read


read_ahead()

# Errors after which a process reconnects and resumes from its last confirmed position.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    *Connection().connection_errors,
    *Connection().channel_errors,
    OSError,
    amqp.exceptions.ConnectionForced,
)


def connect(uri: str, heartbeat: int = 20) -> Connection:
    conn = Connection(uri, heartbeat=heartbeat, connect_timeout=5)
    conn.connect()
    return conn


@contextmanager
def corked(conn: Connection) -> Iterator[None]:
    """Frames written inside go to the socket in one write at the end, not one per message.

    py-amqp sends every published message with its own sendall(); a relay page of 500 messages paid
    500 system calls. Its TCP transport writes through `_write` (the socket's sendall, or a method
    for TLS); the frames are collected instead and written once. Pinned with py-amqp in the lock
    file, and a test publishes a corked page through a real broker.
    """
    transport = conn.connection.transport
    original = transport.__dict__.get("_write")
    if original is None:  # TLS transports write through a method: leave them as they are
        yield
        return
    pending = bytearray()
    transport._write = pending.extend  # frames arrive as memoryviews of a reused buffer: copy
    try:
        yield
    finally:
        transport._write = original
    if pending:
        transport.write(bytes(pending))


def raw_channel(conn: Connection) -> Any:
    """The underlying py-amqp channel: publisher confirms and returns are handled by hand."""
    return conn.connection.channel()


class ConfirmedChannel:
    """A confirm-mode channel that publishes a batch and waits once for all of the broker's acks."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.channel = raw_channel(conn)
        self.channel.confirm_select()
        self._published = 0
        self._acked = 0
        self._failed: list[str] = []
        self.channel.events["basic_ack"].add(self._on_ack)
        self.channel.events["basic_nack"].add(lambda tag, multiple: self._failed.append(f"nack {tag}"))
        self.channel.events["basic_return"].add(
            lambda exc, exchange, key, message: self._failed.append(f"unroutable {exchange}/{key}")
        )

    def _on_ack(self, tag: int, multiple: bool) -> None:
        self._acked = max(self._acked, tag)

    def publish(self, message: amqp.Message, exchange: str, routing_key: str, mandatory: bool = True) -> None:
        self.channel.basic_publish(message, exchange=exchange, routing_key=routing_key, mandatory=mandatory)
        self._published += 1

    def wait(self, timeout: float = 30.0) -> None:
        """Blocks until the broker confirmed everything published so far; raises on nack/return."""
        import time

        deadline = time.monotonic() + timeout
        while self._acked < self._published and not self._failed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no publisher confirm in time")
            try:
                self.conn.drain_events(timeout=min(remaining, 1.0))
            except TimeoutError:
                continue
        if self._failed:
            failures, self._failed = self._failed, []
            raise amqp.exceptions.MessageNacked("; ".join(failures[:3]))
