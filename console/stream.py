"""The console's read model follows the hub: one tracked consumer per upstream, in plain threads.

    python -m console.stream

The upstreams are the console's subscriptions in infra/topology.yaml; their relays declare its
queues, so no event is published before the console's queue exists. One process keeps the order
(a second one stands by: the queues have a single active consumer).
"""

from __future__ import annotations

import sys
import threading

import structlog

from console.readmodel import registry_rows
from console.readmodel.handlers import CONSUMER, handlers
from console.readmodel.store import ConsoleApplication, open_console_store
from console.readmodel.work import ViewConsumer
from services.backbone import logging as hub_logging
from services.backbone import metrics, topology
from services.backbone.process import begin, stop_on_signals
from services.backbone.settings import Settings

log = structlog.get_logger(__name__)


def consumers(app: ConsoleApplication, settings: Settings) -> list[ViewConsumer]:
    return [ViewConsumer(app, handlers, settings, upstream) for upstream in topology.upstreams_of(CONSUMER)]


def main() -> int:
    settings = Settings.from_env()
    begin(settings)
    hub_logging.configure("console-stream", settings.log_format)
    metrics.serve(settings)
    app = open_console_store(settings)
    registry_rows.load_names(app)
    workers = consumers(app, settings)
    stop = stop_on_signals()
    threads = [threading.Thread(target=w.run, args=(stop,), name=w.queue, daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    log.info("console_stream_started", upstreams=[w.upstream for w in workers])
    while not stop.is_set():
        stop.wait(1.0)
        if not all(t.is_alive() for t in threads):
            log.error("worker_died", workers=[t.name for t in threads if not t.is_alive()])
            stop.set()
    for thread in threads:
        thread.join(timeout=10)
    app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
