"""The event backbone against the real broker and both store backends."""

from __future__ import annotations

import random

import amqp
import pytest
from eventsourcing.persistence import Tracking

from services.backbone import contracts, topology
from services.backbone.amqp import connect, raw_channel
from services.backbone.consumer import TrackedConsumer
from services.backbone.handlers import Registration
from services.backbone.relay import Relay, envelopes_after, relay_position, to_message, to_messages
from services.backbone.settings import Settings
from services.backbone.store import open_store
from services.filing.application import FilingApplication
from services.filing.handlers import handlers as filing_handlers
from services.filing.views import EnterpriseView
from services.registry.application import RegistryApplication
from services.registry.domain import Enterprise
from tests.factories import enterprise_kwargs

pytestmark = pytest.mark.integration

RECORDED = (f"{EnterpriseView.__module__}:EnterpriseView.Recorded",)


def seed(registry: RegistryApplication, count: int, start: int = 0) -> list[Enterprise]:
    enterprises = [Enterprise(**enterprise_kwargs(start + i)) for i in range(count)]
    for i in range(0, count, 500):
        registry.save(*enterprises[i : i + 500])
    return enterprises


def recorded_views(filing: FilingApplication) -> list[str]:
    """originator ids of every EnterpriseView.Recorded event in the filing store."""
    ids: list[str] = []
    start = 1
    while page := filing.recorder.select_notifications(start=start, limit=5000, topics=RECORDED):
        ids.extend(str(n.originator_id) for n in page)
        start = page[-1].id + 1
    return ids


def publish_raw(settings: Settings, queue: str, messages: list[amqp.Message]) -> None:
    conn = connect(settings.amqp_uri)
    channel = raw_channel(conn)
    channel.confirm_select()
    for message in messages:
        channel.basic_publish(message, exchange="", routing_key=queue)
    conn.release()


def drain(consumer: TrackedConsumer, until: int, rounds: int = 400) -> None:
    for _ in range(rounds):
        if consumer.position() >= until:
            return
        consumer.poll(wait=0.1)
    pytest.fail(f"consumer stopped at {consumer.position()}, wanted {until}")


def queued(settings: Settings, queue: str) -> int:
    conn = connect(settings.amqp_uri)
    count = raw_channel(conn).queue_declare(queue, passive=True).message_count
    conn.release()
    return int(count)


def assert_each_applied_once(
    filing: FilingApplication, consumer: TrackedConsumer, last: int, count: int
) -> None:
    views = recorded_views(filing)
    assert len(views) == len(set(views)) == count
    assert consumer.position() == last


def test_duplicates_and_disorder_change_nothing_and_drop_nothing(settings: Settings) -> None:
    registry = open_store(RegistryApplication, settings)
    filing = open_store(FilingApplication, settings)
    seed(registry, 150)
    envelopes, last = envelopes_after(registry, 0, 1000)
    assert len(envelopes) == 150
    consumer = TrackedConsumer(filing, filing_handlers, settings, "registry", batch_size=50)
    consumer.poll(wait=0.01)  # declares its queue
    shuffled = envelopes + random.Random(7).sample(envelopes, 60)  # 60 delivered twice
    random.Random(11).shuffle(shuffled)
    publish_raw(settings, consumer.queue, [to_message(e) for e in shuffled])
    drain(consumer, envelopes[-1].notification_id)
    # and once more, everything again, after it was all applied
    publish_raw(settings, consumer.queue, [to_message(e) for e in envelopes])
    for _ in range(10):
        consumer.poll(wait=0.1)
    assert_each_applied_once(filing, consumer, envelopes[-1].notification_id, 150)
    consumer.close()


@pytest.mark.parametrize(("batch", "messages"), [(1, 120), (20, 3 + 3 + 1)])
def test_relay_publishes_in_order_and_consumer_applies_each_once(
    settings: Settings, batch: int, messages: int
) -> None:
    """One message per event, or a batched upstream's pages (of 50, 50, 20) in messages of ≤ 20."""
    registry = open_store(RegistryApplication, settings)
    filing = open_store(FilingApplication, settings)
    enterprises = seed(registry, 120)
    consumer = TrackedConsumer(filing, filing_handlers, settings, "registry", batch_size=45)
    consumer.poll(wait=0.01)  # declares its queue
    consumer.close()  # and leaves it, so the messages stay there to be counted
    relay = Relay(registry, settings, subscribers=("filing",), page_size=50, batch=batch)
    while relay.relay_page() or not relay.caught_up:
        pass
    assert queued(settings, consumer.queue) == messages
    drain(consumer, relay_position(registry))
    assert_each_applied_once(filing, consumer, relay_position(registry), 120)
    assert filing.enterprise_view(str(enterprises[99].id))["name"] == enterprises[99].name
    assert queued(settings, consumer.queue) == 0  # every message acknowledged once all of it was applied
    consumer.close()
    relay.close()


def test_batches_redelivered_with_other_bounds_and_out_of_order_change_nothing(settings: Settings) -> None:
    registry = open_store(RegistryApplication, settings)
    filing = open_store(FilingApplication, settings)
    seed(registry, 150)
    envelopes, _ = envelopes_after(registry, 0, 1000)
    consumer = TrackedConsumer(filing, filing_handlers, settings, "registry", batch_size=50)
    consumer.poll(wait=0.01)
    # the stream in batches of 40, a republished middle part in batches of 25, and some single
    # messages, all in a random order
    messages = [m for _, m in to_messages(envelopes, 40) + to_messages(envelopes[30:100], 25)]
    messages += [to_message(e) for e in random.Random(3).sample(envelopes, 20)]
    random.Random(5).shuffle(messages)
    publish_raw(settings, consumer.queue, messages)
    drain(consumer, envelopes[-1].notification_id)
    for _ in range(5):
        consumer.poll(wait=0.1)
    assert_each_applied_once(filing, consumer, envelopes[-1].notification_id, 150)
    assert queued(settings, consumer.queue) == 0
    consumer.close()


def test_message_that_always_fails_is_parked_shown_and_replayed(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from hubctl.main import app as hubctl
    from tests.conftest import settings_env

    registry = open_store(RegistryApplication, settings)
    filing = open_store(FilingApplication, settings)
    enterprises = seed(registry, 3)
    enterprises[1].update_profile({"address": "新地址 1 号"})
    registry.save(enterprises[1])

    def broken(uow: object, envelope: object) -> None:
        raise RuntimeError("downstream bug")

    key = ("registry", "Enterprise.ProfileUpdated")
    monkeypatch.setitem(filing_handlers._by_key, key, Registration(*key, 1, broken))
    relay = Relay(registry, settings, subscribers=("filing",))
    relay.relay_page()
    consumer = TrackedConsumer(
        filing, filing_handlers, settings, "registry", max_attempts=3, retry_delay=0.01
    )
    drain(consumer, relay_position(registry))
    assert filing.enterprise_view(str(enterprises[1].id))["address"] != "新地址 1 号"

    runner = CliRunner()
    env = settings_env(settings)
    shown = runner.invoke(hubctl, ["status", "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    assert '"type": "Enterprise.ProfileUpdated"' in shown.output
    assert "downstream bug" in shown.output

    monkeypatch.undo()  # the bug is fixed and deployed
    replayed = runner.invoke(hubctl, ["parked", "replay", "--service", "filing"], env=env)
    assert replayed.exit_code == 0, replayed.output
    assert "replayed" in replayed.output
    fresh = open_store(FilingApplication, settings)
    assert fresh.enterprise_view(str(enterprises[1].id))["address"] == "新地址 1 号"
    again = runner.invoke(hubctl, ["parked", "replay", "--service", "filing"], env=env)
    assert "replayed" not in again.output  # nothing left to replay: at most once
    consumer.close()
    relay.close()


def test_relay_refuses_an_event_that_breaks_its_contract(settings: Settings) -> None:
    registry = open_store(RegistryApplication, settings)
    seed(registry, 2)
    bad = Enterprise(**enterprise_kwargs(99, legal_representative_mobile="12345"))
    registry.save(bad)
    relay = Relay(registry, settings, subscribers=("filing",))
    with pytest.raises(contracts.ContractError) as refused:
        relay.relay_page()
    assert refused.value.field == "legal_representative_mobile"
    assert "pattern" in refused.value.rule
    assert relay_position(registry) == 0  # not even the good events before it: the page is refused
    conn = connect(settings.amqp_uri)
    _, ready, _ = raw_channel(conn).queue_declare(settings.queue("filing", "registry"), passive=True)
    conn.release()
    assert ready == 0
    relay.close()


def test_consumer_tracking_is_written_with_the_events_it_causes(settings: Settings) -> None:
    filing = open_store(FilingApplication, settings)
    registry = open_store(RegistryApplication, settings)
    seed(registry, 1)
    envelopes, _ = envelopes_after(registry, 0, 10)
    consumer = TrackedConsumer(filing, filing_handlers, settings, "registry")
    consumer.poll(wait=0.01)
    # Another writer already recorded this position: applying again must fail as a whole.
    filing.process_recorder.insert_tracking(Tracking("registry", envelopes[0].notification_id))
    consumer._position = 0
    publish_raw(settings, consumer.queue, [to_message(envelopes[0])])
    for _ in range(5):
        consumer.poll(wait=0.1)
    assert recorded_views(filing) == []  # the view was not written without its tracking record
    consumer.close()


def test_topology_names_every_subscription() -> None:
    assert "registry" in topology.upstreams_of("filing")
    assert "filing" in topology.consumers_of("registry")
    # a bulk import's stream travels in batches; so does filing's, but each submission alone (the
    # adapter binds Filing.Submitted.* on it)
    assert topology.batch_size_of("riskpoints") > 1
    assert "Filing.Submitted" in topology.alone_of("filing")


def test_processes_of_one_service_starting_together_all_open_its_store(pg_settings: Settings) -> None:
    """A worker, its relay and its server start at once, each creating the same tables: none fails."""
    import threading

    from services.audit.application import AuditApplication

    gate, opened, failed = threading.Barrier(6), [], []

    def start() -> None:
        gate.wait()
        try:
            opened.append(open_store(AuditApplication, pg_settings))
        except Exception as error:  # noqa: BLE001 - what the test looks for
            failed.append(error)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failed == [] and len(opened) == 6
    for app in opened:
        app.close()
