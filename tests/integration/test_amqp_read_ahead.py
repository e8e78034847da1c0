"""py-amqp's socket reads with read-ahead (services.backbone.amqp.read_ahead): messages of every size
arrive whole and in order through a real broker, in fewer reads than frames."""

from __future__ import annotations

import os
from typing import Any

import amqp
import pytest
from kombu import Connection

from services.backbone.amqp import READ_AHEAD, connect, raw_channel

pytestmark = pytest.mark.integration

# empty, a byte, around a frame's header and end, around the read-ahead, several frames (frame_max 128 KiB)
SIZES = [0, 1, 6, 7, 8, 4095, READ_AHEAD - 8, READ_AHEAD, READ_AHEAD + 1, 131_072, 400_000, 1_000_003]


def body_of(message: amqp.Message) -> bytes:
    body = message.body
    return body if isinstance(body, bytes) else body.encode()  # py-amqp gives an empty body as ""


def test_messages_of_every_size_arrive_whole_and_in_order_in_fewer_reads(
    infrastructure: dict[str, str],
) -> None:
    conn: Connection = connect(infrastructure["amqp"])
    try:
        channel = raw_channel(conn)
        queue, _, _ = channel.queue_declare("", exclusive=True)
        bodies = [os.urandom(size) for size in SIZES * 3] + [b"x%d" % i for i in range(200)]
        for body in bodies:
            channel.basic_publish(amqp.Message(body), exchange="", routing_key=queue)
        transport: Any = conn.connection.transport
        reads: list[int] = []
        recv = transport._quick_recv
        transport._quick_recv = lambda n: reads.append(n) or recv(n)
        got: list[bytes] = []
        channel.basic_consume(queue, callback=lambda message: got.append(body_of(message)), no_ack=True)
        while len(got) < len(bodies):
            conn.drain_events(timeout=10)
        assert got == bodies
        frames = 3 * len(bodies)  # at least: method, header and body frames of each
        assert len(reads) < frames  # one read took several frames (read exactly, it took two a frame)
        assert all(n >= READ_AHEAD for n in reads)
    finally:
        conn.release()
