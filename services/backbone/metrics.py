"""Prometheus metrics shared by every hub process, and where each process serves them.

A process that serves /metrics says so in the runtime folder (`metrics/<process>.json`: its name,
address and pid), so that `hubctl status` can list every process's address and ask each whether it
answers. Under `make run` each Procfile line has a port of its own (HUB_METRICS_BASE + its number).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import structlog
from prometheus_client import Counter, Gauge, Histogram, start_http_server

from services.backbone import logging as hub_logging
from services.backbone.settings import Settings

log = structlog.get_logger(__name__)
ANNOUNCEMENTS = "metrics"  # the folder under the runtime folder

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


def serve(settings: Settings, process: str = "") -> int:
    """Exposes /metrics on the settings' port (HUB_METRICS_PORT), once per process; 0 leaves it off.

    HUB_METRICS_ADDR is the address to bind (127.0.0.1; 0.0.0.0 in containers). Returns the port
    served, 0 when off or when the port is taken (metrics are worth a warning, not the process). A
    second call (two nameko services in one process) reuses the first server. The address is
    announced under the runtime folder for `process` (default: the name the process logs under).
    """
    global _server
    if not settings.metrics_port:
        return 0
    with _server_lock:
        if _server is None:
            try:
                _server, _ = start_http_server(settings.metrics_port, addr=settings.metrics_addr)
            except OSError as error:
                log.warning("metrics_not_served", port=settings.metrics_port, error=str(error))
                return 0
            announce(settings, process or hub_logging.process_name() or f"pid-{os.getpid()}")
        return int(_server.server_port)


def scrape_address(settings: Settings, port: int) -> str:
    """Where a client on this machine reaches the server: a wildcard bind answers on loopback."""
    host = settings.metrics_addr if settings.metrics_addr not in ("", "0.0.0.0", "::") else "127.0.0.1"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def announce(settings: Settings, process: str) -> Path | None:
    """Writes `metrics/<process>.json` under the runtime folder: the process's metrics address."""
    if _server is None:
        return None
    folder = settings.runtime_dir / ANNOUNCEMENTS
    record = {"process": process, "address": scrape_address(settings, int(_server.server_port))}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{process}.json"
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps({**record, "pid": os.getpid()}), encoding="utf-8")
        temporary.replace(path)  # whole or not at all, for a reader at the same moment
    except OSError as error:  # a read-only runtime folder: served, just not listed
        log.warning("metrics_not_announced", folder=str(folder), error=str(error))
        return None
    return path


def announced(settings: Settings) -> list[dict[str, Any]]:
    """What the processes using this runtime folder announced (process, address, pid), by name."""
    found = []
    for path in sorted((settings.runtime_dir / ANNOUNCEMENTS).glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and record.get("address"):
            found.append(record)
    return found


def stop_serving() -> None:
    """Stops the /metrics server this process started, if any."""
    global _server
    with _server_lock:
        if _server is not None:
            _server.shutdown()
            _server.server_close()
            _server = None
