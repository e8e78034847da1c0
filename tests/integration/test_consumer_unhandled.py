"""Pages of events a consumer has no handler for: applied as the position only, recorded and
acknowledged later (with a later page, or on their own), delivered again after a crash before that."""

from __future__ import annotations

import pytest

from services.backbone.amqp import connect, raw_channel
from services.backbone.consumer import DEFER_MAX, TrackedConsumer
from services.backbone.handlers import Handlers
from services.backbone.relay import envelopes_after, to_message
from services.backbone.settings import Settings
from services.backbone.store import open_store
from services.filing.application import FilingApplication
from services.registry.application import RegistryApplication
from tests.integration.test_backbone import publish_raw, queued, seed

pytestmark = pytest.mark.integration


def unhandled_setup(settings: Settings, count: int) -> tuple[FilingApplication, list, Handlers]:
    registry = open_store(RegistryApplication, settings)
    filing = open_store(FilingApplication, settings)
    seed(registry, count)
    envelopes, _ = envelopes_after(registry, 0, 1000)
    handlers = Handlers("filing")
    applied: list[int] = []
    handlers.on("registry", "Enterprise.Closed")(lambda _uow, e: applied.append(e.notification_id))
    return filing, envelopes, handlers


def stored_tracking(filing: FilingApplication) -> int:
    return filing.process_recorder.max_tracking_id("registry") or 0


def test_unhandled_events_are_recorded_once_idle_and_every_message_acknowledged(settings: Settings) -> None:
    filing, envelopes, handlers = unhandled_setup(settings, 2 * DEFER_MAX + 7)
    consumer = TrackedConsumer(filing, handlers, settings, "registry", batch_size=10)
    consumer.poll(wait=0.01)  # declares its queue
    publish_raw(settings, consumer.queue, [to_message(e) for e in envelopes])
    for _ in range(40):
        consumer.poll(wait=0.1)
    assert stored_tracking(filing) == envelopes[-1].notification_id
    assert queued(settings, consumer.queue) == 0
    consumer.close()


def test_unhandled_messages_not_recorded_before_a_crash_are_delivered_again(settings: Settings) -> None:
    filing, envelopes, handlers = unhandled_setup(settings, 12)
    consumer = TrackedConsumer(filing, handlers, settings, "registry", batch_size=100)
    consumer.poll(wait=0.01)
    publish_raw(settings, consumer.queue, [to_message(e) for e in envelopes])
    consumer._conn.drain_events(timeout=2)  # noqa: SLF001 - receive, then apply, as poll does
    while len(consumer._inbox) < len(envelopes):  # noqa: SLF001
        consumer._conn.drain_events(timeout=2)  # noqa: SLF001
    messages, consumer._inbox[:] = list(consumer._inbox), []  # noqa: SLF001
    consumer.process(messages)
    assert stored_tracking(filing) == 0  # deferred: neither recorded nor acknowledged
    consumer.close()  # the crash
    conn = connect(settings.amqp_uri)
    assert raw_channel(conn).queue_declare(consumer.queue, passive=True).message_count == len(envelopes)
    conn.release()
    again = TrackedConsumer(filing, handlers, settings, "registry", batch_size=100)
    for _ in range(20):
        again.poll(wait=0.1)
    assert stored_tracking(filing) == envelopes[-1].notification_id
    assert queued(settings, again.queue) == 0
    again.close()


def test_handled_pages_cover_the_unhandled_before_them(settings: Settings) -> None:
    filing, envelopes, handlers = unhandled_setup(settings, 90)
    applied: list[int] = []
    handlers.on("registry", "Enterprise.Registered")(lambda _uow, e: applied.append(e.notification_id))
    # two of every three of another type, which this consumer does not handle
    mixed = [e if i % 3 == 0 else e.replace(type="Enterprise.Noted") for i, e in enumerate(envelopes)]
    consumer = TrackedConsumer(filing, handlers, settings, "registry", batch_size=2)
    consumer.poll(wait=0.01)
    publish_raw(settings, consumer.queue, [to_message(e) for e in mixed + mixed[:30]])  # some twice
    for _ in range(80):  # 45 pages, 15 of duplicates, then idle
        consumer.poll(wait=0.1)
    assert applied == [e.notification_id for i, e in enumerate(envelopes) if i % 3 == 0]
    assert stored_tracking(filing) == envelopes[-1].notification_id
    assert queued(settings, consumer.queue) == 0
    consumer.close()


def test_a_relay_of_internal_events_records_how_far_it_read_once_at_the_head(settings: Settings) -> None:
    """A consumer's views are internal events: its service's relay publishes none of them, and records
    the read position (what `hubctl status` counts the relay's lag from) at the head, not every page."""
    from services.backbone.relay import Relay, relay_read_position
    from services.filing.handlers import handlers as filing_handlers

    filing, envelopes, _ = unhandled_setup(settings, 30)
    consumer = TrackedConsumer(filing, filing_handlers, settings, "registry", batch_size=10)
    consumer.poll(wait=0.01)
    publish_raw(settings, consumer.queue, [to_message(e) for e in envelopes])
    for _ in range(20):
        consumer.poll(wait=0.1)
    head = filing.recorder.max_notification_id() or 0
    assert head >= 30
    relay = Relay(filing, settings, subscribers=(), page_size=1000)
    while relay.relay_page() or not relay.caught_up:
        pass
    assert relay_read_position(filing) == head
    consumer.close()
    relay.close()
