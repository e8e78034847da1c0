"""A blocking AMQP connection (py-amqp through kombu) for plain, thread-based processes."""

from __future__ import annotations

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


def raw_channel(conn: Connection) -> Any:
    """The underlying py-amqp channel: publisher confirms and returns are handled by hand."""
    return conn.connection.channel()
