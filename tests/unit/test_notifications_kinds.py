"""Every kind of notification, from its triggering event, as the real upstream services store it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from services.backbone import contracts, correlation
from services.backbone.relay import envelopes_after
from services.dangers import clock as dangers_clock
from services.dangers.application import DangersApplication
from services.filing.application import FilingApplication
from services.filing.domain import Filing
from services.notifications import templates
from services.notifications.application import NotificationsApplication
from services.riskpoints.application import RiskPointsApplication
from tests import dangers_data
from tests.notifications_data import (
    AJ,
    POPO,
    TOWN_OFFICE,
    ZJ,
    Feed,
    answer,
    register,
    registry_with_departments,
    submit,
)
from tests.riskpoint_factories import item

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TOP = {
    "violation": "SAFETY_LAW_102",
    "amount": 50000,
    "document_no": "台应急罚〔2026〕12号",
    "imposed_on": "2026-12-01",
}


@pytest.fixture
def hub() -> Iterator[dict[str, Any]]:
    registry = registry_with_departments()
    apps: dict[str, Any] = {
        "registry": registry,
        "riskpoints": RiskPointsApplication(env=POPO),
        "dangers": DangersApplication(env=POPO),
        "filing": FilingApplication(env=POPO),
        "notifications": NotificationsApplication(env=POPO),
    }
    apps["ours"] = register(registry, 1)
    apps["neighbour"] = register(registry, 2, name="鲁南化肥厂")
    apps["feed"] = Feed(apps["notifications"])
    apps["feed"].follow(registry)
    yield apps
    for key in ("registry", "riskpoints", "dangers", "filing", "notifications"):
        apps[key].close()


def requested(app: NotificationsApplication, kind: str) -> list[dict[str, Any]]:
    return app.notifications(kind=kind)


def test_a_level_1_risk_point_tells_the_named_neighbour_and_the_town_office_the_others(
    hub: dict[str, Any],
) -> None:
    units = ["东邻：鲁南化肥厂", "西邻：王庄村委会"]
    hub["riskpoints"].create(hub["ours"], item(1, level=1, adjacent_units=units))
    hub["riskpoints"].create(hub["ours"], item(2, level=3))  # level 3: nobody is told
    hub["feed"].follow(hub["riskpoints"])
    notes = requested(hub["notifications"], "adjacent_risk")
    by_address = {n["recipient"]["address"]: n for n in notes}
    # the neighbour's legal representative and contact, and the town office for the unregistered unit
    assert set(by_address) == {"13800000002", "13912345678", TOWN_OFFICE}
    neighbour = by_address["13800000002"]
    assert neighbour["channel"] == "sms" and neighbour["state"] == "requested"
    assert (
        "鲁南化肥厂" in neighbour["text"]
        and "1号反应釜" in neighbour["text"]
        and "1级（红色）" in neighbour["text"]
    )
    assert "枣庄市台儿庄区测试企业1有限公司" in neighbour["text"]
    office = by_address[TOWN_OFFICE]
    assert (
        office["channel"] == "department"
        and "王庄村委会" in office["text"]
        and "鲁南化肥厂" not in office["text"]
    )
    assert all(n["cause"]["type"] == "RiskPoint.AdjacentNotificationRequired" for n in notes)


def test_the_points_of_one_page_reach_each_recipient_in_one_message(hub: dict[str, Any]) -> None:
    units = ["东邻：鲁南化肥厂", "西邻：王庄村委会"]
    for n in range(1, 13):  # twelve level 1 and 2 points, and one level 3 nobody is told of
        with correlation.bound(f"call-{n}"):
            hub["riskpoints"].create(hub["ours"], item(n, level=1 + n % 2, adjacent_units=units))
    hub["riskpoints"].create(hub["ours"], item(13, level=3))
    hub["feed"].follow(hub["riskpoints"], page=100)
    notes = requested(hub["notifications"], "adjacent_risk")
    by_address: dict[str, list[str]] = {}
    for note in notes:
        by_address.setdefault(note["recipient"]["address"], []).append(note["text"])
    # each recipient: ten points in the first message, the other two in a second one
    assert {address: len(texts) for address, texts in by_address.items()} == {
        "13800000002": 2,
        "13912345678": 2,
        TOWN_OFFICE: 2,
    }
    first, second = by_address["13800000002"]
    assert "有10处较大及以上风险点" in first and "有2处较大及以上风险点" in second
    listed = first + second
    assert all(f"“{n}号反应釜”" in listed for n in range(1, 13)) and "13号反应釜" not in listed
    assert "1级红色" in listed and "2级橙色" in listed and "鲁南化肥厂" in first
    office = "".join(by_address[TOWN_OFFICE])
    assert "王庄村委会" in office and "相邻单位鲁南化肥厂" not in office
    # each message is caused by the first point it lists (distinct, and stable when a page is redone),
    # and carries the correlation id of that point's call
    assert len({n["cause"]["event_id"] for n in notes}) == 2
    store = hub["notifications"].repository.event_store
    calls = {next(iter(store.get(UUID(n["notification_id"])))).correlation_id for n in notes}
    assert calls == {"call-1", "call-11"}


def test_points_applied_one_page_each_are_told_one_by_one(hub: dict[str, Any]) -> None:
    for n in (1, 2):
        hub["riskpoints"].create(hub["ours"], item(n, level=1, adjacent_units=["东邻：鲁南化肥厂"]))
    hub["feed"].follow(hub["riskpoints"], page=1)
    texts = [n["text"] for n in requested(hub["notifications"], "adjacent_risk")]
    neighbour = [t for t in texts if t.startswith("【安全风险报备】鲁南化肥厂")]
    assert len(neighbour) == 4  # two points × legal representative and contact
    assert all("处较大及以上" not in t for t in neighbour)


def test_overdue_danger_goes_to_the_responsible_person_then_to_the_office_and_departments(
    hub: dict[str, Any],
) -> None:
    dangers: DangersApplication = hub["dangers"]
    dangers_data.known_enterprise(dangers, hub["ours"])
    danger = dangers.report(hub["ours"], dangers_data.report(), dangers_data.owns)["danger_id"]
    dangers.assess(hub["ours"], danger, {"grade": "一般", "assessed_by": "安全科", "removable_now": False})
    dangers.plan(hub["ours"], danger, dangers_data.plan(responsible_mobile="13700000007"), NOW)
    dangers.check_deadlines(dangers_clock.instant("2030-01-02T00:00:00+08:00"))
    hub["feed"].follow(dangers)
    [responsible] = requested(hub["notifications"], "danger_overdue")
    assert responsible["recipient"] == {"kind": "person", "name": "孙主任", "address": "13700000007"}
    assert "配电箱接地线脱落" in responsible["text"] and dangers_data.FAR in responsible["text"]
    dangers.check_deadlines(dangers_clock.instant("2030-01-05T00:00:00+08:00"))
    hub["feed"].follow(dangers)
    notes = requested(hub["notifications"], "danger_overdue")
    authorities = {n["recipient"]["address"] for n in notes if n["channel"] == "department"}
    assert authorities == {AJ, TOWN_OFFICE}
    assert all(n["cause"]["type"] == "HiddenDanger.EscalatedToAuthorities" for n in notes[1:])


def test_a_rejected_filing_goes_to_the_legal_representative_and_contacts(hub: dict[str, Any]) -> None:
    filing: FilingApplication = hub["filing"]
    record = submit(filing, hub["ours"], 1, [AJ, TOWN_OFFICE], "2026-11-10T02:00:00+00:00")
    answer(filing, record, TOWN_OFFICE, "acknowledged")
    answer(filing, record, AJ, "rejected", "缺少二级风险点管控措施")
    hub["feed"].follow(filing)
    notes = requested(hub["notifications"], "filing_rejected")
    assert {n["recipient"]["address"] for n in notes} == {"13800000001", "13912345678"}
    assert all("缺少二级风险点管控措施" in n["text"] and "安监部门" in n["text"] for n in notes)


def test_rejections_stored_together_are_one_message_naming_each_department_and_reason(
    hub: dict[str, Any],
) -> None:
    filing: FilingApplication = hub["filing"]
    submit(filing, hub["ours"], 1, [AJ, TOWN_OFFICE, ZJ], "2026-11-10T02:00:00+00:00")
    moves = [
        {
            "enterprise_id": hub["ours"],
            "version": 1,
            "department": AJ,
            "outcome": "rejected",
            "reason": "缺少措施",
        },
        {"enterprise_id": hub["ours"], "version": 1, "department": TOWN_OFFICE, "outcome": "acknowledged"},
        {"enterprise_id": hub["ours"], "version": 1, "department": ZJ, "outcome": "rejected", "reason": ""},
    ]
    filing.record_deliveries(moves)
    [event] = [e for e in hub["feed"].follow(filing) if e.type == "DeliveryLedger.Recorded"]
    assert [m["department"] for m in event.payload["moves"]] == [AJ, TOWN_OFFICE, ZJ]
    notes = requested(hub["notifications"], "filing_rejected")
    assert {n["recipient"]["address"] for n in notes} == {"13800000001", "13912345678"}  # one each
    assert all("被安监部门、住建部门退回" in n["text"] for n in notes), notes[0]["text"]
    assert all("安监部门：缺少措施；住建部门：未说明" in n["text"] for n in notes)


def test_a_register_recompiled_for_re_filing_asks_the_enterprise_to_sign(hub: dict[str, Any]) -> None:
    filing: FilingApplication = hub["filing"]
    doc = {"format": "x", "enterprise": {}, "risk_points": [], "supervising_departments": []}
    filing.save(
        Filing(enterprise_id=hub["ours"], version=1, document=doc, document_hash="1" * 64, reason="requested")
    )
    filing.save(
        Filing(
            enterprise_id=hub["ours"],
            version=2,
            document=doc,
            document_hash="2" * 64,
            reason="re-file: risk point (re-)graded: 1号反应釜",
        )
    )
    hub["feed"].follow(filing)
    notes = requested(hub["notifications"], "register_refile")
    assert {n["recipient"]["address"] for n in notes} == {"13800000001", "13912345678"}
    assert all("第2版" in n["text"] and "1号反应釜" in n["text"] for n in notes)


def test_each_enforcement_step_goes_to_the_enterprise_and_the_department(hub: dict[str, Any]) -> None:
    dangers: DangersApplication = hub["dangers"]
    dangers_data.known_enterprise(dangers, hub["ours"])
    fields = {
        "enterprise_id": hub["ours"],
        "document_no": "检〔2026〕1号",
        "inspector_name": "郑检查",
        "inspected_on": "2026-11-30",
        "findings": [dangers_data.finding("重大")],
    }
    case = dangers.record_inspection(AJ, fields, dangers_data.owns)["case_ids"][0]
    dangers.impose_penalty(AJ, case, TOP)
    hub["feed"].follow(dangers)
    notes = requested(hub["notifications"], "enforcement")
    steps = [(n["cause"]["type"], n["channel"], n["recipient"]["address"]) for n in notes]
    for step in ("EnforcementCase.CaseOpened", "EnforcementCase.PenaltyImposed"):
        assert (step, "sms", "13800000001") in steps and (step, "department", AJ) in steps
    penalty = next(
        n for n in notes if n["cause"]["type"].endswith("PenaltyImposed") and n["channel"] == "sms"
    )
    assert (
        "顶格处罚" in penalty["text"]
        and "50000元" in penalty["text"]
        and "台应急罚〔2026〕12号" in penalty["text"]
    )
    # the article the penalty rests on, as officials cite it; never the hub's key for the violation
    assert "《中华人民共和国安全生产法》(2021年修正) 第一百零二条" in penalty["text"]
    assert "SAFETY_LAW" not in penalty["text"]


def test_a_re_file_for_a_re_graded_point_names_it_in_chinese_without_its_id(hub: dict[str, Any]) -> None:
    points = hub["riskpoints"]
    point = points.create(hub["ours"], item(1, level=3))["risk_point_id"]
    hub["feed"].follow(points)
    filing: FilingApplication = hub["filing"]
    doc = {"format": "x", "enterprise": {}, "risk_points": [], "supervising_departments": []}
    for version, reason in ((1, "requested"), (2, f"re-file: risk point (re-)graded: {point}")):
        filing.save(
            Filing(
                enterprise_id=hub["ours"],
                version=version,
                document=doc,
                document_hash=f"{version}" * 64,
                reason=reason,
            )
        )
    hub["feed"].follow(filing)
    [note, *_] = requested(hub["notifications"], "register_refile")
    assert "风险点等级变化：“1号反应釜”" in note["text"]  # the stored reason named it by its id only
    assert point not in note["text"] and "risk point" not in note["text"] and "re-file" not in note["text"]


def test_a_message_for_an_enterprise_the_registry_has_not_told_about_waits_for_its_address(
    hub: dict[str, Any],
) -> None:
    stranger = "0b9d2c4e-1f3a-4b5c-8d7e-6f5a4b3c2d1e"
    record = submit(hub["filing"], stranger, 1, [AJ], "2026-11-10T02:00:00+00:00")
    answer(hub["filing"], record, AJ, "rejected", "材料不全")
    hub["feed"].follow(hub["filing"])
    [note] = requested(hub["notifications"], "filing_rejected")
    assert note["recipient"] == {
        "kind": "enterprise",
        "name": "法定代表人",
        "address": "",
        "enterprise_id": stranger,
    }
    message = hub["notifications"].message_of(note["notification_id"])
    assert message is not None and message.address == ""  # the sender fails it and tries again later


def test_every_template_renders_from_the_fields_it_names() -> None:
    for kind in templates.TEMPLATES:
        fields = {name: f"<{name}>" for name in templates.fields_of(kind)}
        text = templates.render(kind, **fields)
        assert all(f"<{name}>" in text for name in fields) and "{" not in text


def test_the_notifications_events_meet_their_contracts(hub: dict[str, Any]) -> None:
    hub["riskpoints"].create(hub["ours"], item(1, level=2, adjacent_units=["东邻：鲁南化肥厂"]))
    hub["feed"].follow(hub["riskpoints"])
    envelopes, _ = envelopes_after(hub["notifications"], 0, 10_000)  # validates each, as the relay does
    assert {e.type for e in envelopes} == {"Notification.Requested"}
    for envelope in envelopes:
        contracts.validate("notifications", envelope.type, 1, envelope.payload)


def test_the_grades_of_a_page_are_one_ledger_event_and_keep_each_point_s_history(
    hub: dict[str, Any],
) -> None:
    from services.notifications.ledgers import ledger_id

    points = hub["riskpoints"]
    ids = [points.create(hub["ours"], item(n, level=3))["risk_point_id"] for n in range(1, 41)]
    major = {"method": "LEC", "scores": {"L": 6, "E": 6, "C": 15}}
    points.assess(hub["ours"], ids[0], major, adjacent_units=["西邻：王庄村委会"])  # level 3 → 1
    points.retire(hub["ours"], ids[1], "拆除")
    ledger_key = ledger_id("risks", hub["ours"])
    store = hub["notifications"].repository.event_store

    hub["feed"].follow(points, page=1000)  # the whole import in one page
    events = list(store.get(ledger_key))
    assert [type(e).__name__ for e in events] == ["Opened", "GradedAll"]
    ledger = hub["notifications"].repository.get(ledger_key)
    assert len(ledger.levels) == 40
    assert [level for _, level in ledger.levels[ids[0]]] == [3, 1]  # both grades of the page, in order
    assert [level for _, level in ledger.levels[ids[1]]] == [3, 0]
    assert ledger.names[ids[2]] == "3号反应釜"
    assert sorted(ledger.levels_at("9999").values()) == [1] + [3] * 38

    # the same events applied a message per page end in the same ledger
    again = Feed(NotificationsApplication(env=POPO))
    again.follow(hub["registry"])
    again.follow(points, page=1)
    one_by_one = again.app.repository.get(ledger_key)
    assert one_by_one.levels == ledger.levels and one_by_one.names == ledger.names
    assert len(list(again.app.repository.event_store.get(ledger_key))) == 43  # opened, 40 + 2 grades
    again.app.close()
