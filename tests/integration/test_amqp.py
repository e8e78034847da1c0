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


def test_unrouted_events_keep_only_the_latest(
    conn, pg_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events no queue is bound to are kept for a look, the latest few, not without end (they are copies
    of stored events); the unbounded queue of earlier versions is removed."""
    from services.backbone import topology

    monkeypatch.setattr(topology, "UNROUTED_MAX", 5)
    channel = raw_channel(conn)
    channel.queue_declare(pg_settings.unrouted, durable=True, auto_delete=False)  # as earlier versions had it
    exchange = topology.declare_exchange(channel, pg_settings, "nobody-listens")
    try:
        out = ConfirmedChannel(conn)
        for n in range(8):
            out.publish(amqp.Message(f"e{n}".encode()), exchange=exchange, routing_key=f"Thing.Happened.{n}")
        out.wait()  # confirmed: routed (to the unrouted queue) by now
        kept: list[bytes] = []
        while (message := channel.basic_get(pg_settings.unrouted_queue, no_ack=True)) is not None:
            kept.append(message.body)
        assert kept == [f"e{n}".encode() for n in range(3, 8)]
        with pytest.raises(amqp.exceptions.NotFound):
            raw_channel(conn).queue_declare(pg_settings.unrouted, passive=True)
    finally:
        cleanup = raw_channel(conn)
        cleanup.queue_delete(pg_settings.unrouted_queue)
        cleanup.exchange_delete(exchange)
        cleanup.exchange_delete(pg_settings.unrouted)
