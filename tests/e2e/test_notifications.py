"""Notifications through the whole hub, as `make run` starts it: a department platform rejects a filing,
the enterprise's people get an SMS; the town's monthly report is published and announced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from departments.reference import control
from services.notifications.channels.outbox import Outbox
from tests.conftest import Hub, wait_for
from tests.e2e.filing_flow import TOWN, Filer, setup_departments

pytestmark = pytest.mark.e2e


def test_a_rejected_filing_is_texted_to_the_enterprise_and_the_month_is_reported(hub: Hub) -> None:
    setup_departments(hub)
    platform = hub.settings.runtime_dir / "platforms" / "AJJ-TEZ"
    control.write(platform, control.Behaviour("reject", reason="缺少重大危险源辨识"))
    filer = Filer.register(hub, 41)
    filer.wait_answered(filer.file())
    outbox = Outbox.of(hub.settings)
    texts = wait_for(
        lambda: len(found := outbox.read(channel="sms")) == 2 and found,
        timeout=90,
        what="the rejection's SMS to the legal representative and the contact",
    )
    assert sorted(t["address"] for t in texts) == ["13800000041", "13912345678"]
    assert all("缺少重大危险源辨识" in t["text"] and "第1版" in t["text"] for t in texts)

    month = datetime.now(UTC).astimezone(timezone(timedelta(hours=8))).strftime("%Y-%m")
    with ClusterRpcProxy(hub.settings.nameko_config, timeout=120) as rpc:
        published = rpc.notifications.publish_monthly_report(TOWN, month)
        sent = rpc.notifications.notifications("sent", "filing_rejected")
    assert published["published"] and published["totals"]["enterprises"] == 1
    assert published["totals"]["filed"] + published["totals"]["late"] == 1
    assert len(sent) == 2 and all(n["attempts"] == 1 for n in sent)
    notices = wait_for(
        lambda: len(found := outbox.read(channel="department")) == 2 and found,
        timeout=60,
        what="the report's announcement to the departments",
    )
    assert {n["address"] for n in notices} == {"AJJ-TEZ", "TOWN-ZSZ"}
    assert all(n["kind"] == "report_published" and "每月通报" in n["text"] for n in notices)
    assert (hub.settings.runtime_dir / "reports" / TOWN / month).is_dir()
