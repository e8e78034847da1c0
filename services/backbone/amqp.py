"""A blocking AMQP connection (py-amqp through kombu) for plain, thread-based processes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import amqp
from kombu import Connection

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
