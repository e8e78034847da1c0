"""RabbitMQ topology: one topic exchange per service, one ordered queue per (consumer, upstream)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from services.backbone.settings import Settings

TOPOLOGY_FILE = Path(__file__).resolve().parents[2] / "infra" / "topology.yaml"
UNROUTED_TTL_MS = 7 * 24 * 3600 * 1000
# Unrouted events are copies of stored ones (a relay can publish them again): the latest are kept for a
# look, not all of a week (a province's SMS records and checkpoints: hundreds of thousands a day).
UNROUTED_MAX = 100_000


@cache
def _topology() -> dict[str, Any]:
    return yaml.safe_load(TOPOLOGY_FILE.read_text(encoding="utf-8")) or {}


def _subscriptions() -> dict[str, tuple[str, ...]]:
    return {k: tuple(v) for k, v in (_topology().get("subscriptions") or {}).items()}


def _batched() -> dict[str, int]:
    return {k: int(v) for k, v in (_topology().get("batched") or {}).items()}


def batch_size_of(upstream: str) -> int:
    """How many envelopes of `upstream` travel in one AMQP message at most (1: one each)."""
    return max(_batched().get(upstream, 1), 1)


def alone_of(upstream: str) -> frozenset[str]:
    """The event types of `upstream` that travel one to a message even when it is batched (a queue
    binds their routing keys)."""
    return frozenset((_topology().get("alone") or {}).get(upstream) or ())


def upstreams_of(consumer: str) -> tuple[str, ...]:
    return _subscriptions().get(consumer, ())


def consumers_of(upstream: str) -> tuple[str, ...]:
    return tuple(c for c, ups in _subscriptions().items() if upstream in ups)


def consumer_queue_arguments(settings: Settings) -> dict[str, Any]:
    # One active consumer at a time keeps the queue's order; a standby takes over on failure.
    return {"x-single-active-consumer": True, "x-queue-type": settings.queue_type}


def declare_exchange(channel: Any, settings: Settings, service: str) -> str:
    """The service's topic exchange; events nobody is bound to land in the unrouted queue."""
    channel.exchange_declare(settings.unrouted, "fanout", durable=True, auto_delete=False)
    channel.queue_declare(
        settings.unrouted_queue,
        durable=True,
        auto_delete=False,
        arguments={"x-message-ttl": UNROUTED_TTL_MS, "x-max-length": UNROUTED_MAX, "x-overflow": "drop-head"},
    )
    channel.queue_bind(settings.unrouted_queue, settings.unrouted, "")
    channel.queue_delete(settings.unrouted)  # the unbounded queue of earlier versions (a no-op when gone)
    name = settings.exchange(service)
    channel.exchange_declare(
        name,
        "topic",
        durable=True,
        auto_delete=False,
        arguments={"alternate-exchange": settings.unrouted},
    )
    return name


def declare_consumer_queue(channel: Any, settings: Settings, consumer: str, upstream: str) -> str:
    """The ordered queue through which `consumer` receives every event of `upstream`."""
    exchange = declare_exchange(channel, settings, upstream)
    queue = settings.queue(consumer, upstream)
    channel.queue_declare(
        queue, durable=True, auto_delete=False, arguments=consumer_queue_arguments(settings)
    )
    # All events: the consumer tracks the upstream's whole sequence to apply it in order.
    channel.queue_bind(queue, exchange, "#")
    return queue
