"""An idle relay on PostgreSQL waits for its store's NOTIFY instead of asking the store again and again,
and wakes up for a new event long before its wait would have run out."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from services.backbone.relay import Relay, relay_position
from services.backbone.settings import Settings
from services.backbone.store import notify_channel, open_store
from services.registry.application import RegistryApplication
from services.registry.domain import Enterprise
from services.registry.index import EnterpriseIndex
from tests.conftest import PG_URL, make_settings
from tests.factories import enterprise_kwargs

pytestmark = pytest.mark.integration


@pytest.fixture
def own_database(tmp_path: Path, infrastructure: dict[str, str]) -> Iterator[Settings]:
    """A database of its own: NOTIFY channels are per database, and other hubs' inserts in a shared
    one would wake this relay too (harmlessly, but then its idle reads could not be counted)."""
    name = f"hub_wakeup_{uuid.uuid4().hex[:8]}"
    settings = make_settings(tmp_path, "postgres", database_url=PG_URL.rsplit("/", 1)[0] + "/" + name)
    yield settings
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def relay(own_database: Settings) -> Iterator[tuple[Relay, RegistryApplication, list[int]]]:
    pg_settings = own_database
    registry = open_store(RegistryApplication, pg_settings)
    relay = Relay(registry, pg_settings, subscribers=("filing",))
    relay._wakeup.timeout = 60.0  # a wait that would last a minute: only a NOTIFY can end it early
    reads: list[int] = []
    select = registry.recorder.select_notifications

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(1)
        return select(*args, **kwargs)

    registry.recorder.select_notifications = counted  # type: ignore[method-assign]
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    yield relay, registry, reads
    stop.set()
    registry.save(Enterprise(**enterprise_kwargs(999)))  # wakes it to see the stop
    thread.join(timeout=10)
    registry.close()


def published_within(registry: RegistryApplication, wanted: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if relay_position(registry) >= wanted:
            return True
        time.sleep(0.05)
    return False


def test_an_idle_relay_sleeps_until_its_store_has_a_new_event(
    relay: tuple[Relay, RegistryApplication, list[int]],
) -> None:
    relay_, registry, reads = relay
    time.sleep(1.0)  # caught up at once (an empty store), then waiting
    assert relay_._wakeup.listening
    idle_reads = len(reads)
    time.sleep(2.0)
    assert len(reads) == idle_reads  # no polling while nothing happens
    for n in range(3):
        registry.save(Enterprise(**enterprise_kwargs(n)))
        head = registry.recorder.max_notification_id() or 0
        assert published_within(registry, head, 20.0), "the relay slept through a new event"


def test_internal_events_alone_wake_no_relay(relay: tuple[Relay, RegistryApplication, list[int]]) -> None:
    """A transaction of internal events only (views, indexes) has nothing to publish: no NOTIFY."""
    relay_, registry, reads = relay
    time.sleep(1.0)
    assert relay_._wakeup.listening
    idle_reads = len(reads)
    for n in range(3):
        registry.save(EnterpriseIndex(kind="town", value=f"镇{n}", shard=n))
    time.sleep(2.0)
    assert len(reads) == idle_reads, "an insert of internal events woke the relay"
    registry.save(Enterprise(**enterprise_kwargs(7)))  # a published one still does, at once
    head = registry.recorder.max_notification_id() or 0
    assert published_within(registry, head, 20.0), "the relay slept through a new event"


def test_another_namespace_in_the_same_database_wakes_no_relay(
    relay: tuple[Relay, RegistryApplication, list[int]], own_database: Settings, tmp_path: Path
) -> None:
    """Two hubs sharing a database (tests, benchmarks, tenants) each wake only their own relays."""
    relay_, registry, reads = relay
    other_settings = make_settings(tmp_path / "other", "postgres", database_url=own_database.database_url)
    other = open_store(RegistryApplication, other_settings)
    try:
        assert other.recorder.channel_name != registry.recorder.channel_name  # type: ignore[attr-defined]
        time.sleep(1.0)
        assert relay_._wakeup.listening
        idle_reads = len(reads)
        for n in range(3):
            other.save(Enterprise(**enterprise_kwargs(100 + n)))
        time.sleep(2.0)
        assert len(reads) == idle_reads, "another namespace's insert woke this relay"
    finally:
        other.close()


def test_a_long_schema_name_still_names_a_channel_postgresql_keeps_whole() -> None:
    long_schema = "t" * 60 + "_registry"
    channel = notify_channel(long_schema, "registryapplication_events")
    assert len(channel.encode("utf-8")) <= 63
    assert channel != notify_channel("u" * 60 + "_registry", "registryapplication_events")
    assert (
        notify_channel("t1_registry", "registryapplication_events")
        == "t1_registry.registryapplication_events"
    )
