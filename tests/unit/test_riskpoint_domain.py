"""The RiskPoint aggregate: grading, tiers (raised only), adjacent units, history, retirement."""

from __future__ import annotations

import hashlib
import itertools
import json
import uuid

import pytest

from services.backbone.errors import TransitionError, ValidationError
from services.riskpoints.domain import KEEP, RiskPoint, fingerprint, risk_point_id
from services.riskpoints.grading import DEFAULT_THRESHOLDS, LEC_FACTORS, LS_FACTORS, AccidentType, assess
from services.riskpoints.validation import _members, clean_item
from tests.riskpoint_factories import LEC_SCORES, item

ENTERPRISE = str(uuid.uuid4())


def identify(level: int = 3, **overrides: object) -> RiskPoint:
    checked = clean_item(item(1, level=level, **overrides), DEFAULT_THRESHOLDS)
    return RiskPoint.identify(
        ENTERPRISE, checked.external_id, checked.details, checked.assessment, checked.control_tier
    )


def events(point: RiskPoint) -> list[str]:
    return [type(e).__name__ for e in point.collect_events()]


def lec(level: int) -> object:
    return assess("LEC", LEC_SCORES[level])


def test_the_id_comes_from_the_enterprise_and_the_erp_id() -> None:
    point = identify()
    assert point.id == risk_point_id(ENTERPRISE, "RP-00001") == uuid.uuid5(uuid.UUID(ENTERPRISE), "RP-00001")
    assert point.id != risk_point_id(str(uuid.uuid4()), "RP-00001")


@pytest.mark.parametrize(
    ("level", "colour", "tier", "notified"),
    [(1, "红", "公司", True), (2, "橙", "车间", True), (3, "黄", "班组", False), (4, "蓝", "岗位", False)],
)
def test_a_new_risk_point_gets_its_level_colour_and_default_tier(
    level: int, colour: str, tier: str, notified: bool
) -> None:
    point = identify(level)
    assert (int(point.level), point.level.colour, point.control_tier, point.control_tier_override) == (
        level, colour, tier, None,
    )  # fmt: skip
    expected = ["Identified", "AdjacentNotificationRequired"] if notified else ["Identified"]
    assert events(point) == expected


def test_the_tier_may_be_raised_never_lowered() -> None:
    raised = identify(4, control_tier="车间")
    assert (raised.control_tier, raised.control_tier_override) == ("车间", "车间")
    with pytest.raises(ValidationError) as lowered:
        identify(2, control_tier="班组")
    assert lowered.value.field == "control_tier" and "never lowered" in lowered.value.rule
    point = identify(3)
    with pytest.raises(ValidationError):
        point.change({}, tier="岗位")
    point.change({}, tier="公司")
    assert point.control_tier == "公司"


def test_a_higher_grade_lifts_a_tier_that_fell_below_its_default() -> None:
    point = identify(4, control_tier="班组")
    point.change({"adjacent_units": ["北邻"]}, lec(1), reason="扩产")
    assert (point.control_tier, point.control_tier_override) == ("公司", None)
    point.change({}, lec(4))
    assert point.control_tier == "岗位"  # the default follows the level again


def test_reassessment_is_a_new_event_and_the_history_stays() -> None:
    point = identify(3)
    point.collect_events()
    assert point.change({"adjacent_units": ["东邻"]}, lec(2), reason="新增储罐") is True
    assert [a["level"] for a in point.assessments] == [3, 2] and point.assessments[1]["reason"] == "新增储罐"
    assert events(point) == ["Assessed", "Updated", "AdjacentNotificationRequired"]
    assert point.change({}, lec(2)) is False  # the same grade again changes nothing
    assert events(point) == []


def test_levels_one_and_two_need_adjacent_units_and_notify_new_ones() -> None:
    with pytest.raises(ValidationError) as missing:
        identify(1, adjacent_units=[])
    assert missing.value.field == "adjacent_units"
    point = identify(2)
    point.collect_events()
    point.change({"adjacent_units": ["东邻：鲁南化肥厂", "南邻：加油站"]})
    notices = [e for e in point.collect_events() if type(e).__name__ == "AdjacentNotificationRequired"]
    assert [n.adjacent_units for n in notices] == [["南邻：加油站"]]
    assert notices[0].enterprise_id == ENTERPRISE


def test_every_event_names_the_enterprise() -> None:
    point = identify(1)
    point.change({"location": "二车间"}, lec(2))
    point.retire("拆除")
    assert {e.enterprise_id for e in point.collect_events()} == {ENTERPRISE}


def test_a_retired_risk_point_changes_no_more() -> None:
    point = identify(3)
    point.retire("设备拆除")
    assert point.retired and point.retired_reason == "设备拆除"
    with pytest.raises(TransitionError):
        point.change({"name": "新名"})
    with pytest.raises(TransitionError):
        point.retire("again")


def test_the_import_form_of_a_point_matches_the_item_it_came_from() -> None:
    from services.riskpoints.batch import item_fingerprint

    checked = clean_item(item(9, level=4, control_tier="车间"), DEFAULT_THRESHOLDS)
    point = RiskPoint.identify(
        ENTERPRISE, checked.external_id, checked.details, checked.assessment, checked.control_tier
    )
    assert fingerprint(point.import_form()) == item_fingerprint(checked)
    point.change({"name": "别的名字"}, tier=KEEP)
    assert fingerprint(point.import_form()) != item_fingerprint(checked)


def _stdlib_fingerprint(form: dict) -> str:
    """How fingerprints were made before (and are stored in risk points saved then)."""
    canonical = json.dumps(form, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:24]


@pytest.mark.parametrize("method", ["LEC", "LS"])
def test_fingerprints_are_those_stored_before_for_every_score_and_any_text(method: str) -> None:
    """A re-sent import of points saved before the fingerprint moved to orjson is still seen unchanged."""
    odd_text = "".join(chr(c) for c in range(1, 0x80)) + '风险点\u2028\u2029\U0001f600\ufeff\\"'
    table = LEC_FACTORS if method == "LEC" else LS_FACTORS
    for n, scores in enumerate(itertools.product(*table.values())):
        data = item(n, level=1 + n % 4)
        data["assessment"] = {"method": method, "scores": dict(zip(table, scores, strict=True))}
        data["name"], data["location"] = f"{n}{odd_text[-60:]}", odd_text
        data["adjacent_units"] = [odd_text[:90], odd_text[-90:], "东邻：鲁南化肥厂"]
        checked = clean_item(data, DEFAULT_THRESHOLDS)
        point = RiskPoint.identify(
            ENTERPRISE, checked.external_id, checked.details, checked.assessment, checked.control_tier
        )
        assert fingerprint(point.import_form()) == _stdlib_fingerprint(point.import_form())


def test_an_item_s_names_are_checked_by_value_and_the_other_spelling_of_other_is_taken() -> None:
    data = item(11, level=3)
    data["accident_types"] = ["其它伤害", data["accident_types"][0]]
    for _ in range(2):  # the same both times (the second from the spelling remembered: next test)
        checked = clean_item(data, DEFAULT_THRESHOLDS)
        assert "其他伤害" in checked.details["accident_types"]  # stored in DESIGN's spelling
        assert "其它伤害" not in checked.details["accident_types"]
    data.update(category={"x": 1}, accident_types=[["物体打击"], "无此类型"])
    data["control_measures"] = [{"type": None, "description": "巡检"}]
    with pytest.raises(ValidationError) as refused:
        clean_item(data, DEFAULT_THRESHOLDS)
    assert {f for f, _ in refused.value.violations} == {
        "category",
        "accident_types[0]",
        "accident_types[1]",
        "control_measures[0].type",
    }


def test_an_accepted_other_spelling_is_parsed_once_then_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = []
    missing = AccidentType._missing_

    def counting(value: object) -> AccidentType | None:
        parsed.append(value)
        return missing(value)

    monkeypatch.setattr(AccidentType, "_missing_", counting)
    member = _members(AccidentType)
    assert [member("其它爆炸") for _ in range(3)] == [AccidentType.OTHER_EXPLOSION] * 3
    assert member("火灾") is AccidentType.FIRE and member("无此类型") is None and member(["火灾"]) is None
    assert parsed.count("其它爆炸") == 1  # parsed once, then looked up
