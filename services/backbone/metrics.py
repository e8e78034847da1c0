"""Prometheus metrics shared by every hub process."""

from __future__ import annotations

import os

from prometheus_client import Counter, Gauge, Histogram, start_http_server

EVENTS_PUBLISHED = Counter("hub_events_published_total", "Events published by the relay", ["service"])
RELAY_POSITION = Gauge("hub_relay_position", "Last notification id confirmed by the broker", ["service"])
EVENTS_CONSUMED = Counter(
    "hub_events_consumed_total", "Events applied by a consumer", ["consumer", "upstream"]
)
DUPLICATES = Counter(
    "hub_duplicates_total", "Redelivered events recognised and skipped", ["consumer", "upstream"]
)
PARKED = Counter("hub_parked_total", "Messages parked after bounded retries", ["consumer", "upstream"])
CONSUMER_POSITION = Gauge(
    "hub_consumer_position", "Last upstream notification applied", ["consumer", "upstream"]
)
GRPC_LATENCY = Histogram(
    "hub_grpc_seconds", "gRPC call latency at the gateway", ["method", "code"]
)


def serve_from_env(default_port: int | None = None) -> None:
    """Exposes /metrics when HUB_METRICS_PORT (or a default) is given; 0 turns it off."""
    port = int(os.environ.get("HUB_METRICS_PORT", default_port or 0))
    if port:
        start_http_server(port, addr=os.environ.get("HUB_METRICS_ADDR", "127.0.0.1"))
