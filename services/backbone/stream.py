"""The stream process of a service: its relay and its tracked consumers, in plain threads.

    python -m services.backbone.stream registry

Run one per service. RPC workers (nameko) scale out; the stream process keeps order, so a
second one only stands by (RabbitMQ's single active consumer) and republishes harmlessly.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import threading

import structlog

from services.backbone import logging as hub_logging
from services.backbone import metrics, topology
from services.backbone.consumer import TrackedConsumer
from services.backbone.handlers import Handlers
from services.backbone.process import begin, stop_on_signals
from services.backbone.relay import RECORD_SECONDS, Relay
from services.backbone.settings import Settings
from services.backbone.store import HubApplication, open_store

log = structlog.get_logger(__name__)


def application_class(service: str) -> type[HubApplication]:
    """The service's application: the HubApplication its application module defines (not one of the
    use-case classes it is composed of, which that module imports)."""
    name = f"services.{service}.application"
    module = importlib.import_module(name)
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and issubclass(value, HubApplication)
            and value.service == service
            and value.__module__ == name
        ):
            return value
    raise LookupError(f"services.{service}.application defines no HubApplication for {service!r}")


def handlers_of(service: str) -> Handlers | None:
    try:
        module = importlib.import_module(f"services.{service}.handlers")
    except ModuleNotFoundError:
        return None
    return getattr(module, "handlers", None)


def build(service: str, settings: Settings) -> tuple[HubApplication, list[object]]:
    """The service's store, its relay and one consumer per upstream it subscribes to."""
    app = open_store(application_class(service), settings)
    workers: list[object] = [Relay(app, settings, record_every=RECORD_SECONDS)]
    handlers = handlers_of(service)
    if handlers is not None:
        for upstream in topology.upstreams_of(service):
            workers.append(TrackedConsumer(app, handlers, settings, upstream))
    workers.extend(extra_workers(service, app, settings))
    return app, workers


def extra_workers(service: str, app: HubApplication, settings: Settings) -> list[object]:
    """A service's own periodic work (timers), from `services.<name>.workers` when it has one."""
    try:
        module = importlib.import_module(f"services.{service}.workers")
    except ModuleNotFoundError:
        return []
    return list(module.workers(app, settings))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("service")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    begin(settings)
    hub_logging.configure(f"{args.service}-stream", settings.log_format, settings.log_level)
    metrics.serve(settings)
    app, workers = build(args.service, settings)
    stop = stop_on_signals()
    threads = [
        threading.Thread(target=w.run, args=(stop,), name=type(w).__name__, daemon=True)  # type: ignore[attr-defined]
        for w in workers
    ]
    for thread in threads:
        thread.start()
    log.info("stream_started", service=args.service, workers=len(threads))
    while not stop.is_set():
        stop.wait(1.0)
        for thread in threads:
            if not thread.is_alive():
                log.error("worker_died", worker=thread.name)
                stop.set()
    for thread in threads:
        thread.join(timeout=10)
    app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
