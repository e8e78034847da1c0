"""The hidden-danger workflow and its deadlines, on in-memory persistence."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from services.backbone.errors import NotFoundError, PermissionDeniedError, TransitionError, ValidationError
from services.backbone.relay import envelopes_after
from services.dangers import clock
from services.dangers.application import DangersApplication
from services.kernel.validation import today_in_shanghai
from tests import dangers_data as data

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


@pytest.fixture
def app() -> Iterator[DangersApplication]:
    value = DangersApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo", "HUB_ESCALATION_DELAY_DAYS": "3"}
    )
    yield value
    value.close()


@pytest.fixture
def enterprise(app: DangersApplication) -> str:
    eid = str(uuid.uuid4())
    data.known_enterprise(app, eid)
    return eid


def rules(error: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return dict(error.value.violations)


def rectifying(app: DangersApplication, eid: str, grade: str = "一般", **plan: Any) -> str:
    danger = app.report(eid, data.report(), data.owns)["danger_id"]
    app.assess(eid, danger, {"grade": grade, "assessed_by": "安全科", "removable_now": False})
    app.plan(eid, danger, data.plan(major=grade == "重大", **plan), NOW)
    return str(danger)


def verification(by: str = "吴科长") -> dict[str, str]:
    return {"by": by, "on": "2026-11-26", "remarks": "现场复查合格"}


def test_the_whole_workflow_ends_closed_and_every_event_meets_its_contract(
    app: DangersApplication, enterprise: str
) -> None:
    danger = rectifying(app, enterprise)
    assert app.get(enterprise, danger)["state"] == "rectifying"
    assert app.submit(enterprise, danger, data.submission())["state"] == "submitted"
    assert app.verify(data.AJ, danger, verification())["state"] == "verified"
    closed = app.close_danger(data.AJ, danger, {"by": "吴科长", "on": "2026-11-27"})
    assert closed["state"] == "closed"
    assert [d["kind"] for d in closed["decisions"]] == ["verified", "closed"]
    assert [d["danger_id"] for d in app.list_dangers(enterprise)] == [danger]
    assert app.list_dangers(enterprise, "rectifying") == []
    envelopes, _ = envelopes_after(app, 0, 1000)  # validates every published event against its contract
    types = [e.type for e in envelopes]
    assert types == [
        "HiddenDanger.Reported",
        "HiddenDanger.Assessed",
        "HiddenDanger.RectificationPlanned",
        "HiddenDanger.RectificationSubmitted",
        "HiddenDanger.Verified",
        "HiddenDanger.Closed",
    ]
    assert {e.enterprise_id for e in envelopes} == {enterprise}


def test_a_report_names_every_bad_field_and_stores_nothing(app: DangersApplication, enterprise: str) -> None:
    bad = data.report(
        description=" ",
        inspection_type="月度",
        found_on="2026-13-01",
        evidence=[{"uri": "photo.jpg", "hash_algorithm": "md5", "digest": "abc"}],
    )
    with pytest.raises(ValidationError) as refused:
        app.report(enterprise, bad, data.owns)
    found = rules(refused)
    assert found["description"] == "is required"
    assert "日常" in found["inspection_type"] and "事故类比" in found["inspection_type"]
    assert found["found_on"] == "must be a date YYYY-MM-DD"
    assert set(found) >= {"evidence[0].uri", "evidence[0].hash_algorithm", "evidence[0].digest"}
    assert app.list_dangers(enterprise) == []


def test_a_major_danger_needs_every_part_of_its_treatment_plan(
    app: DangersApplication, enterprise: str
) -> None:
    danger = app.report(enterprise, data.report(), data.owns)["danger_id"]
    assessed = app.assess(
        enterprise, danger, {"grade": "重大", "assessed_by": "安全科", "removable_now": True}
    )
    assert assessed["removable_now"] is False  # a major danger is never removable at once
    incomplete = data.plan(interim_measures=[], emergency_plan="")
    incomplete["treatment_plan"] = data.treatment_plan(funds="", materials=" ", deadline="")
    with pytest.raises(ValidationError) as refused:
        app.plan(enterprise, danger, incomplete, NOW)
    found = rules(refused)
    assert set(found) == {
        "interim_measures",
        "emergency_plan",
        "treatment_plan.funds",
        "treatment_plan.materials",
        "treatment_plan.deadline",
    }
    assert "经费" in found["treatment_plan.funds"] and "物资" in found["treatment_plan.materials"]
    assert app.get(enterprise, danger)["state"] == "assessed"


def test_a_deadline_in_the_past_is_refused(app: DangersApplication, enterprise: str) -> None:
    danger = app.report(enterprise, data.report(), data.owns)["danger_id"]
    app.assess(enterprise, danger, {"grade": "一般", "assessed_by": "安全科", "removable_now": True})
    with pytest.raises(ValidationError) as refused:
        app.plan(enterprise, danger, data.plan(deadline="2026-11-27"), NOW)  # NOW is the 28th in Shanghai
    assert "2026-11-28" in rules(refused)["deadline"]


def test_forbidden_transitions_name_the_current_state(app: DangersApplication, enterprise: str) -> None:
    danger = app.report(enterprise, data.report(), data.owns)["danger_id"]
    with pytest.raises(TransitionError) as early:
        app.submit(enterprise, danger, data.submission())
    assert early.value.current_state == "reported"
    assert "reported" in early.value.rule
    danger = rectifying(app, enterprise)
    with pytest.raises(TransitionError) as unverified:
        app.close_danger(data.AJ, danger, {"by": "吴科长", "on": "2026-11-27"})
    assert unverified.value.current_state == "rectifying"


@pytest.mark.parametrize("rectifier", ["孙主任", "周电工"])  # the responsible person, and who rectified it
def test_the_rectifier_may_not_verify(app: DangersApplication, enterprise: str, rectifier: str) -> None:
    danger = rectifying(app, enterprise)
    app.submit(enterprise, danger, data.submission())
    with pytest.raises(PermissionDeniedError) as refused:
        app.verify(data.AJ, danger, verification(by=rectifier))
    assert refused.value.field == "verifier"
    assert "other than the rectifier" in refused.value.rule
    assert app.get(enterprise, danger)["state"] == "submitted"


def test_sent_back_then_submitted_again_and_verified(app: DangersApplication, enterprise: str) -> None:
    danger = rectifying(app, enterprise)
    app.submit(enterprise, danger, data.submission())
    with pytest.raises(ValidationError) as no_reason:
        app.send_back(data.AJ, danger, {"by": "吴科长", "on": "2026-11-26", "remarks": ""})
    assert "reason" in rules(no_reason)
    back = app.send_back(data.AJ, danger, {"by": "吴科长", "on": "2026-11-26", "remarks": "接地电阻不合格"})
    assert back["state"] == "rectifying"
    assert back["decisions"][-1]["remarks"] == "接地电阻不合格"
    app.submit(enterprise, danger, data.submission(summary="重新打接地极，电阻 2.1Ω"))
    assert app.verify(data.AJ, danger, verification())["state"] == "verified"


def test_only_the_owner_and_its_supervisors_reach_a_danger(app: DangersApplication, enterprise: str) -> None:
    danger = rectifying(app, enterprise)
    with pytest.raises(PermissionDeniedError):
        app.get(str(uuid.uuid4()), danger)
    app.submit(enterprise, danger, data.submission())
    with pytest.raises(PermissionDeniedError):
        app.verify(data.ZJ, danger, verification())  # 住建 does not supervise this enterprise


def test_overdue_once_then_escalated_to_responsible_and_after_the_delay_to_authorities(
    app: DangersApplication, enterprise: str
) -> None:
    danger = rectifying(app, enterprise)
    done = rectifying(app, enterprise)
    app.submit(enterprise, done, data.submission())  # rectified in time: never overdue
    at = clock.instant
    assert app.check_deadlines(at("2030-01-01T23:59:59+08:00"))["overdue"] == []
    assert app.check_deadlines(at("2030-01-02T00:00:00+08:00"))["overdue"] == [danger]
    assert app.check_deadlines(at("2030-01-02T12:00:00+08:00"))["overdue"] == []  # once per danger
    assert app.check_deadlines(at("2030-01-04T23:59:00+08:00"))["escalated_to_authorities"] == []
    assert app.check_deadlines(at("2030-01-05T00:00:00+08:00"))["escalated_to_authorities"] == [danger]
    assert app.check_deadlines(at("2030-02-01T00:00:00+08:00")) == {
        "checked": [],
        "overdue": [],
        "escalated_to_authorities": [],
        "set_aside": [],
    }
    assert app._deadlines().entries == {}
    envelopes, _ = envelopes_after(app, 0, 1000)
    escalations = {e.type: e.payload for e in envelopes if e.originator_id == danger}
    assert escalations["HiddenDanger.Overdue"]["deadline"] == data.FAR
    assert escalations["HiddenDanger.EscalatedToResponsible"]["responsible_mobile"] == "13912345678"
    authorities = escalations["HiddenDanger.EscalatedToAuthorities"]
    assert authorities["town_office"] == data.TOWN
    assert authorities["departments"] == sorted([data.AJ, data.TOWN])
    assert app.get(enterprise, danger)["escalation"] == "authorities"
    assert [e.type for e in envelopes if e.originator_id == done][-1] == "HiddenDanger.RectificationSubmitted"


def test_a_sent_back_danger_past_its_deadline_falls_overdue(app: DangersApplication, enterprise: str) -> None:
    danger = rectifying(app, enterprise)
    app.submit(enterprise, danger, data.submission())
    assert app.check_deadlines(clock.instant("2030-01-03T00:00:00+08:00"))["overdue"] == []
    # sent back today (a decision's day is one that has happened), found overdue in 2030
    today = today_in_shanghai().isoformat()
    app.send_back(data.AJ, danger, {"by": "吴科长", "on": today, "remarks": "未整改到位"})
    assert app.check_deadlines(clock.instant("2030-01-03T00:01:00+08:00"))["overdue"] == [danger]


@pytest.mark.parametrize("standing", ["other", "missing"])
def test_a_danger_is_reported_only_on_a_risk_point_of_the_enterprise(
    app: DangersApplication, enterprise: str, standing: str
) -> None:
    """Another enterprise's risk point is not told apart from one that does not exist; nothing is stored."""
    before = app.recorder.max_notification_id()
    with pytest.raises(NotFoundError) as refused:
        app.report(enterprise, data.report(), lambda _e, ids: dict.fromkeys(ids, standing))
    assert refused.value.field == "risk_point_id"
    assert app.recorder.max_notification_id() == before


@pytest.mark.parametrize("value", ["no-such-point", "", "1' OR '1'='1", "😀" * 40])
def test_a_risk_point_id_that_is_no_uuid_is_refused_by_name(
    app: DangersApplication, enterprise: str, value: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        app.report(enterprise, data.report(risk_point_id=value), data.owns)
    assert ("risk_point_id", "must be a UUID") in refused.value.violations


def test_a_danger_whose_deadline_cannot_be_read_is_set_aside_and_the_others_still_fall_overdue(
    app: DangersApplication, enterprise: str
) -> None:
    """A deadline stored before dates were bounded (9999-12-31 overflows every date sum the timer makes)
    is set aside with its reason; every other danger's deadline still fires, on this pass and the next."""
    from services.backbone.set_aside import set_aside_items

    poisoned, healthy = rectifying(app, enterprise), rectifying(app, enterprise)
    index = app._deadlines()
    index._tracked(danger_id=poisoned, entry={"deadline": "9999-12-31", "overdue_at": None})
    app.save(index)
    first = app.check_deadlines(clock.instant("2030-01-02T00:00:00+08:00"))
    assert first["overdue"] == [healthy] and first["set_aside"] == [poisoned]
    [item] = set_aside_items(app)
    assert (item.scan, item.key) == ("deadlines", poisoned) and "OverflowError" in item.error
    later = rectifying(app, enterprise)  # another danger, due later, after the poisoned one was set aside
    app.save(app._deadlines())
    again = app.check_deadlines(clock.instant("2030-01-03T00:00:00+08:00"))
    assert again["overdue"] == [later] and again["set_aside"] == []  # left aside, not tried each pass
    item.clear("cleared by an operator")
    app.save(item)
    retried = app.check_deadlines(clock.instant("2030-01-04T00:00:00+08:00"))
    assert retried["set_aside"] == [poisoned]  # tried again once cleared (and still unreadable)
