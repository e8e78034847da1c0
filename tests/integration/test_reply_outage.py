"""A service's reply outlives a broker outage longer than nameko's own reconnection: make chaos saw the
registry stop (nameko kills the container when a reply cannot be sent) 8 s into a 20 s RabbitMQ
restart. The reply's retry policy was long, but the connection under a new channel was made with
nameko's transport options (three attempts, 9 s), whose failure no retry policy catches.

The broker here sits behind a TCP proxy the test cuts: every connection reset, every new one refused,
for longer than those 9 s, then served again."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import kombu
import nameko.rpc
import pytest

import services.registry.service  # noqa: F401 - a service module, as `nameko run` imports it (its patches)
from services.backbone.settings import Settings
from tests.conftest import free_port

pytestmark = pytest.mark.integration
OUTAGE = 12.0  # seconds: past nameko's three connection attempts (2 + 3 + 4 s)


class Proxy:
    """127.0.0.1:port → the broker, until cut: then connections are reset and refused until restored."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.port = target, free_port()
        self._links: list[socket.socket] = []
        self._lock = threading.Lock()
        self._server: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(16)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def cut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread; new connections are refused
            server.close()
        with self._lock:
            links, self._links = self._links, []
        for link in links:
            _close(link)

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._links += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            _close(source)
            _close(sink)


def _close(link: socket.socket) -> None:
    try:
        link.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    link.close()


@pytest.fixture
def queue(infrastructure: dict[str, str]) -> Any:
    name = f"reply-outage-{uuid.uuid4().hex[:8]}"
    with kombu.Connection(Settings().amqp_uri) as conn:
        channel = conn.channel()
        channel.queue_declare(name, durable=False, auto_delete=False)
        yield name, channel
        channel.queue_delete(name)


def test_a_reply_sent_during_a_long_broker_outage_goes_out_once_the_broker_is_back(queue: Any) -> None:
    name, channel = queue
    broker = urlsplit(Settings().amqp_uri)  # the broker the queue is on, reached through the proxy
    proxy = Proxy((broker.hostname or "127.0.0.1", broker.port or 5672))
    through = broker._replace(netloc=f"{broker.username}:{broker.password}@127.0.0.1:{proxy.port}")
    publisher = nameko.rpc.Responder.publisher_cls(urlunsplit(through))
    publisher.publish(
        {"reply": "before"}, routing_key=name, exchange=""
    )  # a pooled connection, as a running service has
    _wait_until_queued(channel, name, 1)  # replies are not confirmed: in flight at the cut, it is lost
    proxy.cut()
    threading.Timer(OUTAGE, proxy.restore).start()
    started = time.monotonic()
    publisher.publish(
        {"reply": "during"}, routing_key=name, exchange=""
    )  # raised after 9 s, and nameko stopped
    assert time.monotonic() - started >= OUTAGE - 1  # it waited the outage out
    _wait_until_queued(channel, name, 2)
    time.sleep(0.5)  # room for a second copy, were one on its way
    replies = []
    while (message := channel.basic_get(name, no_ack=True)) is not None:
        replies.append(json.loads(message.body)["reply"])
    assert replies == ["before", "during"]  # once each
    proxy.cut()


def _wait_until_queued(channel: Any, name: str, count: int, timeout: float = 10.0) -> None:
    """Until the queue holds `count` messages: an unconfirmed publish returns once the bytes are written."""
    deadline = time.monotonic() + timeout
    while channel.queue_declare(name, passive=True).message_count < count:
        assert time.monotonic() < deadline, f"{count} replies not queued within {timeout} s"
        time.sleep(0.05)
