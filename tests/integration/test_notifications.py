"""Notifications against the real broker and both store backends: redelivery, the stream process's
sender through a channel outage, and the operator's commands."""

from __future__ import annotations

import json
import random

import pytest
from typer.testing import CliRunner

from hubctl.main import app as hubctl
from services.backbone.consumer import TrackedConsumer
from services.backbone.relay import Relay, envelopes_after, relay_position, to_message
from services.backbone.settings import Settings
from services.backbone.store import open_store
from services.filing.application import FilingApplication
from services.notifications import channels, config
from services.notifications.application import NotificationsApplication
from services.notifications.channels import control
from services.notifications.channels.outbox import Outbox
from services.notifications.handlers import handlers
from services.notifications.sender import Sender
from services.registry.application import RegistryApplication
from tests.conftest import Processes, settings_env, wait_for
from tests.integration.test_backbone import drain, publish_raw
from tests.notifications_data import (
    AJ,
    TOWN,
    TOWN_OFFICE,
    ZJ,
    answer,
    register,
    registry_with_departments,
    submit,
)

pytestmark = pytest.mark.integration


def rejected(settings: Settings) -> tuple[RegistryApplication, FilingApplication, str]:
    """An enterprise registered, filed and rejected by 安监, in the real upstream stores."""
    registry = registry_with_departments(open_store(RegistryApplication, settings))
    enterprise = register(registry, 1)
    filing = open_store(FilingApplication, settings)
    record = submit(filing, enterprise, 1, [AJ], "2026-11-10T02:00:00+00:00")
    answer(filing, record, AJ, "rejected", "缺少应急处置措施")
    return registry, filing, enterprise


def applied(settings: Settings, upstream: RegistryApplication | FilingApplication) -> bool:
    """The notifications service has applied every event `upstream` published."""
    app = open_store(NotificationsApplication, settings)
    try:
        return (app.process_recorder.max_tracking_id(upstream.service) or 0) >= relay_position(upstream)
    finally:
        app.close()


def test_a_redelivered_event_sends_nothing_twice(settings: Settings) -> None:
    registry, filing, _ = rejected(settings)
    app = open_store(NotificationsApplication, settings)
    from_registry = TrackedConsumer(app, handlers, settings, "registry")
    from_filing = TrackedConsumer(app, handlers, settings, "filing", batch_size=3)
    for consumer in (from_registry, from_filing):
        consumer.poll(wait=0.01)  # declares its queue
    registry_envelopes, _ = envelopes_after(registry, 0, 1000)
    publish_raw(settings, from_registry.queue, [to_message(e) for e in registry_envelopes])
    drain(from_registry, registry_envelopes[-1].notification_id)
    envelopes, _ = envelopes_after(filing, 0, 1000)
    twice = envelopes + envelopes  # every filing event delivered twice, out of order
    random.Random(3).shuffle(twice)
    publish_raw(settings, from_filing.queue, [to_message(e) for e in twice])
    drain(from_filing, envelopes[-1].notification_id)
    sender = Sender(app, channels.build(settings), config.load())
    assert sender.run_once()["sent"] == 2  # the legal representative and the contact
    publish_raw(settings, from_filing.queue, [to_message(e) for e in envelopes])  # and again, later
    for _ in range(5):
        from_filing.poll(wait=0.1)
    assert sender.run_once()["sent"] == 0
    sent = Outbox.of(settings).read(channel="sms")
    assert sorted(m["address"] for m in sent) == ["13800000001", "13912345678"]
    assert len(app.notifications(kind="filing_rejected")) == 2
    for consumer in (from_registry, from_filing):
        consumer.close()


def test_the_stream_process_sends_after_the_channel_recovers_once_each(
    settings: Settings, processes: Processes
) -> None:
    registry, filing, _ = rejected(settings)
    outbox = Outbox.of(settings)
    control.write(outbox.directory, "sms", "down", "短信网关不可达")
    processes.stream(
        "notifications",
        settings,
        HUB_NOTIFY_RETRY_BASE="0.3",
        HUB_NOTIFY_RETRY_MAX="1",
        HUB_NOTIFY_MAX_ATTEMPTS="1000",
    )
    for upstream in (registry, filing):  # the registry's events first, as they happen in life
        relay = Relay(upstream, settings, subscribers=("notifications",))
        while relay.relay_page() or not relay.caught_up:
            pass
        relay.close()
        wait_for(lambda up=upstream: applied(settings, up), timeout=60, what=f"{upstream.service} applied")

    def failed_twice() -> bool:
        with_store = open_store(NotificationsApplication, settings)
        try:
            notes = with_store.notifications()
            return len(notes) == 2 and all(n["state"] == "failed" and n["attempts"] >= 2 for n in notes)
        finally:
            with_store.close()

    wait_for(failed_twice, timeout=60, what="both SMS to fail and be retried")
    assert outbox.read() == []
    control.write(outbox.directory, "sms", "up")
    wait_for(lambda: len(outbox.read()) == 2, timeout=60, what="the two SMS after the gateway recovered")
    env = settings_env(settings)
    shown = CliRunner().invoke(hubctl, ["notifications", "list", "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    assert {n["state"] for n in json.loads(shown.output)} == {"sent"}
    listed = CliRunner().invoke(hubctl, ["notifications", "outbox", "--json", "--channel", "sms"], env=env)
    rows = json.loads(listed.output)
    assert sorted(r["address"] for r in rows) == ["13800000001", "13912345678"]
    assert all("缺少应急处置措施" in r["text"] for r in rows)


def test_hubctl_publishes_the_monthly_report_and_switches_channels(
    settings: Settings, tmp_path: object
) -> None:
    from pathlib import Path

    from tests.notifications_seed import seed

    app = open_store(NotificationsApplication, settings)
    seed(app).close()  # closes the notifications store too: hubctl opens its own
    env, runner, out = settings_env(settings), CliRunner(), Path(str(tmp_path)) / "report-out"
    made = runner.invoke(
        hubctl, ["report", "monthly", "--town", TOWN, "--month", "2026-10", "--out", str(out)], env=env
    )
    assert made.exit_code == 0, made.output
    assert "revision 1 (published)" in made.output and "filed 2, late 1, missing 1 of 4" in made.output
    assert (out / f"每月通报-{TOWN}-2026-10.pdf").read_bytes().startswith(b"%PDF")
    again = runner.invoke(hubctl, ["report", "monthly", "--town", TOWN, "--month", "2026-10"], env=env)
    assert "unchanged, not published again" in again.output
    bad = runner.invoke(hubctl, ["report", "monthly", "--town", TOWN, "--month", "2026-13"], env=env)
    assert bad.exit_code == 1 and "month" in bad.output
    down = runner.invoke(hubctl, ["notifications", "channel", "department", "down"], env=env)
    assert down.exit_code == 0 and control.failure(Outbox.of(settings).directory, "department")
    listed = runner.invoke(hubctl, ["notifications", "list", "--kind", "report_published", "--json"], env=env)
    assert len(json.loads(listed.output)) == 3


def test_a_page_of_answers_is_one_event_in_the_enterprise_s_ledger(settings: Settings) -> None:
    from services.notifications.ledgers import ledger_id

    registry = registry_with_departments(open_store(RegistryApplication, settings))
    enterprise = register(registry, 1)
    filing = open_store(FilingApplication, settings)
    record = submit(filing, enterprise, 1, [AJ, TOWN_OFFICE, ZJ], "2026-11-10T02:00:00+00:00")
    for department, outcome in ((AJ, "acknowledged"), (TOWN_OFFICE, "delivered"), (ZJ, "acknowledged")):
        answer(filing, record, department, outcome)
    answer(filing, record, TOWN_OFFICE, "acknowledged")  # the same department again, later: it wins
    app = open_store(NotificationsApplication, settings)
    consumer = TrackedConsumer(app, handlers, settings, "filing")
    consumer.poll(wait=0.01)  # declares its queue
    envelopes, _ = envelopes_after(filing, 0, 1000)
    publish_raw(settings, consumer.queue, [to_message(e) for e in envelopes])
    drain(consumer, envelopes[-1].notification_id)
    ledger = app.repository.get(ledger_id("filings", enterprise))
    assert {d: outcome for d, (_, outcome) in ledger.answers["1"].items()} == {
        AJ: "acknowledged",
        TOWN_OFFICE: "acknowledged",
        ZJ: "acknowledged",
    }
    assert ledger.outcomes_at("9999") == {AJ: "acknowledged", TOWN_OFFICE: "acknowledged", ZJ: "acknowledged"}
    events = list(app.repository.event_store.get(ledger.id))
    assert [type(e).__name__ for e in events] == ["Opened", "Submitted", "AnsweredMany"]
    consumer.close()
