"""A call's request travels transient, confirmed and mandatory: the caller's reply queue lives only as
long as its connection, so a request kept through a broker restart would be worked on for nobody."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection, Consumer, Exchange, Producer, Queue
from nameko.rpc import get_rpc_exchange

from services.backbone.errors import UnavailableError
from services.backbone.rpc_client import Services
from tests.conftest import isolated_hub_settings

pytestmark = pytest.mark.integration


def test_a_request_is_transient_and_its_answer_comes_back(
    infrastructure: dict[str, str], tmp_path: Path
) -> None:
    with isolated_hub_settings(tmp_path) as settings:
        exchange: Exchange = get_rpc_exchange(settings.nameko_config)
        queue = Queue(
            f"{settings.namespace}probe-requests", exchange, routing_key="probe.*", auto_delete=True
        )
        services = Services(settings, timeout=10)
        answers: list[Any] = []
        caller = threading.Thread(target=lambda: answers.append(services.call("probe", "ping", 41)))
        with Connection(settings.amqp_uri) as conn:
            queue(conn.default_channel).declare()
            caller.start()
            got: list[Any] = []
            with Consumer(conn, [queue], callbacks=[lambda body, message: got.append((body, message))]):
                while not got:
                    conn.drain_events(timeout=10)
            body, message = got[0]
            message.ack()
            assert body["args"] == [41]
            assert message.properties["delivery_mode"] == 1  # transient: not written to disk
            assert message.delivery_info["routing_key"] == "probe.ping"
            Producer(conn.default_channel).publish(
                {"result": body["args"][0] + 1, "error": None},
                exchange=exchange,
                routing_key=message.properties["reply_to"],
                correlation_id=message.properties["correlation_id"],
                serializer="json",
            )
            caller.join(timeout=10)
        assert answers == [42]
        # nothing takes calls to a service with no queue: refused at once (mandatory, confirmed)
        with pytest.raises(UnavailableError):
            services.call("nobody-home", "ping")
        services.close()
