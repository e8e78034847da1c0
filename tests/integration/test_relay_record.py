"""The stream process's relay records its confirmed position at most every `record_every` while its
pages are short (a transaction per single call saved), a full page at once, what is left at the head
once due and when it stops; a relay gone before recording has its successor publish those events
again, and each is still applied once."""

from __future__ import annotations

import threading
import time

import pytest

from services.backbone.consumer import TrackedConsumer
from services.backbone.relay import Relay, relay_position
from services.backbone.settings import Settings
from services.backbone.store import open_store
from services.filing.application import FilingApplication
from services.filing.handlers import handlers as filing_handlers
from services.registry.application import RegistryApplication
from tests.integration.test_backbone import assert_each_applied_once, drain, seed

pytestmark = pytest.mark.integration


def one_call_at_a_time(registry: RegistryApplication, relay: Relay, calls: int, start: int) -> list[int]:
    """`calls` saves of one enterprise each, each relayed as its own short page; their positions."""
    published = []
    for n in range(calls):
        seed(registry, 1, start + n)
        assert relay.relay_page() == 1
        published.append(relay_position_in_memory(relay))
    return published


def relay_position_in_memory(relay: Relay) -> int:
    return relay._last_published  # noqa: SLF001 - what the broker confirmed


def test_short_pages_are_recorded_at_most_every_record_every_and_the_rest_once_due(
    pg_settings: Settings,
) -> None:
    registry = open_store(RegistryApplication, pg_settings)
    relay = Relay(registry, pg_settings, subscribers=("filing",), record_every=0.5)
    try:
        first, *rest = one_call_at_a_time(registry, relay, 5, 0)
        assert relay_position(registry) == first  # the first is recorded; the next four wait
        assert relay.record_due_in() is not None
        time.sleep(0.5)
        assert relay.relay_page() == 0  # at the head, once due: recorded
        assert relay_position(registry) == rest[-1]
        assert relay.record_due_in() is None
    finally:
        relay.close()
        registry.close()


def test_a_relay_driven_page_by_page_records_every_page(pg_settings: Settings) -> None:
    registry = open_store(RegistryApplication, pg_settings)
    relay = Relay(registry, pg_settings, subscribers=("filing",))
    try:
        for n in range(3):
            (published,) = one_call_at_a_time(registry, relay, 1, n)
            assert relay_position(registry) == published
    finally:
        relay.close()
        registry.close()


def test_a_full_page_is_recorded_at_once(pg_settings: Settings) -> None:
    registry = open_store(RegistryApplication, pg_settings)
    relay = Relay(registry, pg_settings, subscribers=("filing",), page_size=10, record_every=60.0)
    try:
        one_call_at_a_time(registry, relay, 2, 0)  # the first recorded, the second due in a minute
        seed(registry, 25, 100)
        assert relay.relay_page() == 10
        assert relay_position(registry) == relay_position_in_memory(relay)
    finally:
        relay.close()
        registry.close()


def test_a_stopping_relay_records_what_the_broker_confirmed(pg_settings: Settings) -> None:
    registry = open_store(RegistryApplication, pg_settings)
    relay = Relay(registry, pg_settings, subscribers=("filing",), record_every=60.0)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        seed(registry, 1, 0)
        deadline = time.monotonic() + 10
        while relay_position(registry) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        first = relay_position(registry)
        for n in range(1, 4):
            seed(registry, 1, n)
            time.sleep(0.05)  # a page each
        head = registry.recorder.max_notification_id()
        while relay_position_in_memory(relay) < head and time.monotonic() < deadline:
            time.sleep(0.02)
        assert relay_position_in_memory(relay) == head
        assert relay_position(registry) == first  # due only in a minute
    finally:
        stop.set()
        thread.join(timeout=10)
        registry.close()
    registry = open_store(RegistryApplication, pg_settings)
    assert relay_position(registry) == head
    registry.close()


def test_events_a_lost_relay_never_recorded_are_published_again_and_applied_once(
    pg_settings: Settings,
) -> None:
    registry = open_store(RegistryApplication, pg_settings)
    filing = open_store(FilingApplication, pg_settings)
    consumer = TrackedConsumer(filing, filing_handlers, pg_settings, "registry", batch_size=45)
    consumer.poll(wait=0.01)  # declares its queue
    lost = Relay(registry, pg_settings, subscribers=("filing",), record_every=60.0)
    published = one_call_at_a_time(registry, lost, 6, 0)
    lost.close()  # gone without recording: as a killed process, its last five positions unrecorded
    assert relay_position(registry) == published[0]
    drain(consumer, published[-1])
    successor = Relay(registry, pg_settings, subscribers=("filing",))
    try:
        seed(registry, 4, 100)
        while successor.relay_page() or not successor.caught_up:
            pass
        assert relay_position(registry) == registry.recorder.max_notification_id()
        # the five unrecorded events a second time, then the four new ones
        drain(consumer, relay_position(registry))
        for _ in range(5):
            consumer.poll(wait=0.05)
        assert_each_applied_once(filing, consumer, relay_position(registry), 10)
    finally:
        successor.close()
        consumer.close()
        registry.close()
        filing.close()
