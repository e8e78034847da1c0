"""The relay's corked publishing: a page of messages in one socket write, all confirmed, in order."""

from __future__ import annotations

import amqp
import pytest

from services.backbone.amqp import ConfirmedChannel, connect, corked, raw_channel
from services.backbone.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def conn(pg_settings: Settings):
    connection = connect(pg_settings.amqp_uri)
    yield connection
    connection.release()


def test_a_corked_page_reaches_the_queue_whole_and_in_order(conn, pg_settings: Settings) -> None:
    queue = f"{pg_settings.namespace}corked"
    channel = raw_channel(conn)
    channel.queue_declare(queue, durable=False, auto_delete=False)
    out = ConfirmedChannel(conn)
    writes: list[int] = []
    transport = conn.connection.transport
    sendall = transport.sock.sendall

    def counting(data: bytes) -> None:
        writes.append(len(data))
        sendall(data)

    transport._write = counting  # what corked() restores afterwards
    with corked(conn):
        for n in range(300):
            out.publish(amqp.Message(f"m{n}".encode()), exchange="", routing_key=queue, mandatory=True)
        assert writes == []  # nothing left for the socket yet
    assert len(writes) == 1  # the whole page in one write
    out.wait()
    received = []
    while (message := channel.basic_get(queue, no_ack=True)) is not None:
        received.append(message.body)
    assert received == [f"m{n}".encode() for n in range(300)]
    channel.queue_delete(queue)
    transport._write = sendall
