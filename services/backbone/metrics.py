"""Prometheus metrics shared by every hub process."""

from __future__ import annotations

import threading
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from services.backbone.settings import Settings

EVENTS_PUBLISHED = Counter("hub_events_published_total", "Events published by the relay", ["service"])
RELAY_POSITION = Gauge("hub_relay_position", "Last notification id confirmed by the broker", ["service"])
# Consumer lag needs no gauge of its own: it is the upstream relay's position minus the consumer's,
#   max by (upstream) (label_replace(hub_relay_position, "upstream", "$1", "service", "(.*)"))
#     - on (upstream) group_right hub_consumer_position
RELAY_LAG = Gauge(
    "hub_relay_lag",
    "Notifications in the store the relay has not read yet (store head - relay position)",
    ["service"],
)
EVENTS_CONSUMED = Counter(
    "hub_events_consumed_total", "Events applied by a consumer", ["consumer", "upstream"]
)
DUPLICATES = Counter(
    "hub_duplicates_total", "Redelivered events recognised and skipped", ["consumer", "upstream"]
)
PARKED = Counter("hub_parked_total", "Messages parked after bounded retries", ["consumer", "upstream"])
SET_ASIDE = Counter("hub_set_aside_total", "Items a periodic scan set aside with their reason", ["scan"])
CONSUMER_POSITION = Gauge(
    "hub_consumer_position", "Last upstream notification applied", ["consumer", "upstream"]
)
GRPC_LATENCY = Histogram("hub_grpc_seconds", "gRPC call latency at the gateway", ["method", "code"])


_server: Any = None
_server_lock = threading.Lock()


def serve(settings: Settings) -> int:
    """Exposes /metrics on the settings' port (HUB_METRICS_PORT), once per process; 0 leaves it off.

    HUB_METRICS_ADDR is the address to bind (127.0.0.1; 0.0.0.0 in containers). Returns the port
    served, 0 when off. A second call (two nameko services in one process) reuses the first server.
    """
    global _server
    if not settings.metrics_port:
        return 0
    with _server_lock:
        if _server is None:
            _server, _ = start_http_server(settings.metrics_port, addr=settings.metrics_addr)
        return int(_server.server_port)


def stop_serving() -> None:
    """Stops the /metrics server this process started, if any."""
    global _server
    with _server_lock:
        if _server is not None:
            _server.shutdown()
            _server.server_close()
            _server = None
