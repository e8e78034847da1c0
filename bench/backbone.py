"""Backbone throughput: the relay's publish rate and store-to-consumer rate, beside raw baselines.

python -m bench.backbone [--events 50000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import amqp

from bench.common import Result, save, show, stop_on_signals
from services.backbone.amqp import connect, raw_channel
from services.backbone.relay import Relay, relay_position
from services.backbone.settings import Settings
from services.backbone.store import open_store
from services.filing.application import FilingApplication
from services.registry.application import RegistryApplication
from services.registry.domain import Enterprise
from tests.conftest import ROOT, cleanup, make_settings, settings_env
from tests.factories import enterprise_kwargs

PAGE = 500


def raw_batched_save(settings: Settings, count: int) -> float:
    """eventsourcing, PostgreSQL, save() of PAGE aggregates per transaction: events/s. eventsourcing's
    own INSERT and JSON transcoder, not the hub's COPY and orjson (services.backbone.copy_events and
    .transcoder): the raw library is the baseline."""
    app = open_store(RegistryApplication, settings, HUB_COPY_EVENTS="false", HUB_ORJSON_EVENTS="false")
    aggregates = [Enterprise(**enterprise_kwargs(i)) for i in range(count)]
    started = time.perf_counter()
    for i in range(0, count, PAGE):
        app.save(*aggregates[i : i + PAGE])
    rate = count / (time.perf_counter() - started)
    app.close()
    return rate


def raw_publish(settings: Settings, count: int, body_size: int) -> float:
    """py-amqp, persistent messages to a durable queue, one confirm wait per PAGE: msgs/s."""
    conn = connect(settings.amqp_uri)
    channel = raw_channel(conn)
    queue = f"{settings.namespace}bench.raw"
    channel.queue_declare(queue, durable=True, auto_delete=False)
    channel.confirm_select()
    acked = [0]
    channel.events["basic_ack"].add(lambda tag, multiple: acked.__setitem__(0, max(acked[0], tag)))
    body = b"x" * body_size
    started = time.perf_counter()
    for i in range(0, count, PAGE):
        for _ in range(min(PAGE, count - i)):
            channel.basic_publish(amqp.Message(body, delivery_mode=2), exchange="", routing_key=queue)
        while acked[0] < min(i + PAGE, count):
            conn.drain_events(timeout=10)
    rate = count / (time.perf_counter() - started)
    channel.queue_delete(queue)
    conn.release()
    return rate


def relay_rate(settings: Settings) -> tuple[float, int]:
    """The relay publishing everything in the registry store: events/s."""
    app = open_store(RegistryApplication, settings)
    relay = Relay(app, settings, page_size=PAGE)
    started = time.perf_counter()
    published = 0
    while True:
        published += relay.relay_page()
        if relay.caught_up:
            break
    rate = published / (time.perf_counter() - started)
    relay.close()
    app.close()
    return rate, published


def store_to_consumer_rate(settings: Settings, count: int, logs: Path) -> float:
    """Registry store → relay → RabbitMQ → filing consumer applied (stream processes): events/s."""
    registry = open_store(RegistryApplication, settings)
    filing = open_store(FilingApplication, settings)  # creates tables before timing
    env = settings_env(settings)
    started = time.perf_counter()
    procs = []
    for service in ("filing", "registry"):
        with open(logs / f"{service}.log", "wb") as log:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "services.backbone.stream", service],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    try:
        while True:
            target = relay_position(registry)
            done = filing.process_recorder.max_tracking_id("registry") or 0
            if target and done >= registry.recorder.max_notification_id() - 1 and done >= target:
                break
            time.sleep(0.05)
        return count / (time.perf_counter() - started)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=20)
        registry.close()
        filing.close()


def run(events: int = 50_000) -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        base = make_settings(Path(tmp), "postgres")
        stream = make_settings(Path(tmp), "postgres", relay_page_size=PAGE)
        try:
            saved = raw_batched_save(base, events)  # also seeds the store the relay reads
            relayed, published = relay_rate(base)
            sample = open_store(RegistryApplication, base)
            body_size = 700
            sample.close()
            published_raw = raw_publish(base, events, body_size)
            raw_batched_save(stream, events)
            end_to_end = store_to_consumer_rate(stream, events, Path(tmp))
        finally:
            cleanup(base)
            cleanup(stream)
    assert published == events
    return [
        Result(
            "relay: store → exchange (confirmed)", relayed, "raw publish, confirm per page", published_raw
        ),
        Result(
            "store → relay → consumer applied",
            end_to_end,
            "eventsourcing save(), 500/transaction",
            saved,
        ),
    ]


def main() -> None:
    stop_on_signals()
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    args = parser.parse_args()
    results = run(args.events)
    show(results, "Event backbone")
    print(f"written: {save(results, 'backbone')}")


if __name__ == "__main__":
    main()
