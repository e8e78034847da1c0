"""Unit tests for risk point vocabularies and LEC / LS grading."""

from __future__ import annotations

from fractions import Fraction
from itertools import product

import pytest

from services.backbone.errors import ValidationError
from services.riskpoints.grading import (
    DEFAULT_THRESHOLDS,
    AccidentType,
    Assessment,
    Category,
    ControlMeasureType,
    ControlTier,
    Level,
    Method,
    Thresholds,
    assess,
    check_tier,
    default_tier,
    must_notify_adjacent,
)

# Factor tables restated here (as exact fractions) rather than imported, so the tests check the module.
L_LEC = ["10", "6", "3", "1", "0.5", "0.2", "0.1"]
E_LEC = ["10", "6", "3", "2", "1", "0.5"]
C_LEC = ["100", "40", "15", "7", "3", "1"]


def expected_lec_level(d: Fraction) -> int:
    """Independent statement of the default LEC bands."""
    if d > 320:
        return 1
    if 160 <= d <= 320:
        return 2
    if 70 <= d < 160:
        return 3
    return 4


def expected_ls_level(r: int) -> int:
    """Independent statement of the default LS bands."""
    if 20 <= r <= 25:
        return 1
    if 15 <= r <= 16:
        return 2
    if 9 <= r <= 12:
        return 3
    assert r <= 8, f"R={r} is not reachable"
    return 4


def lec_combos() -> dict[Fraction, list[tuple[str, str, str]]]:
    """Every reachable D with the factor combinations producing it."""
    out: dict[Fraction, list[tuple[str, str, str]]] = {}
    for lv, ev, cv in product(L_LEC, E_LEC, C_LEC):
        out.setdefault(Fraction(lv) * Fraction(ev) * Fraction(cv), []).append((lv, ev, cv))
    return out


def lec(lv: str, ev: str, cv: str, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Assessment:
    return assess(Method.LEC, {"L": float(lv), "E": float(ev), "C": float(cv)}, thresholds)


# --- vocabularies -----------------------------------------------------------------------------------


def test_categories() -> None:
    assert [c.value for c in Category] == [
        "生产系统", "设备设施", "输送管线", "操作行为", "职业健康",
        "环境条件", "矿山采空区", "施工场所", "垃圾堆场", "安全管理",
    ]  # fmt: skip


def test_accident_types_in_gb6441_order() -> None:
    expected = [
        "物体打击", "车辆伤害", "机械伤害", "起重伤害", "触电", "淹溺", "灼烫", "火灾", "高处坠落", "坍塌",
        "冒顶片帮", "透水", "放炮", "火药爆炸", "瓦斯爆炸", "锅炉爆炸", "容器爆炸", "其他爆炸", "中毒和窒息",
        "其他伤害",
    ]  # fmt: skip
    assert [t.value for t in AccidentType] == expected
    assert [t.code for t in AccidentType] == list(range(1, 21))


def test_accident_type_accepts_both_spellings_of_other() -> None:
    assert AccidentType("其他伤害") is AccidentType.OTHER_INJURY
    assert AccidentType("其它伤害") is AccidentType.OTHER_INJURY
    assert AccidentType("其它爆炸") is AccidentType.OTHER_EXPLOSION
    assert AccidentType.OTHER_INJURY.value == "其他伤害"
    with pytest.raises(ValueError):
        AccidentType("其他事故")


def test_measure_types_and_methods() -> None:
    assert [m.value for m in ControlMeasureType] == [
        "制度管理", "物理工程", "在线监测", "视频监控", "自动化控制", "应急管理",
    ]  # fmt: skip
    assert [m.value for m in Method] == ["LEC", "LS"]


def test_tiers_ranked_company_highest() -> None:
    assert [(t.value, t.rank) for t in ControlTier] == [("公司", 1), ("车间", 2), ("班组", 3), ("岗位", 4)]
    assert ControlTier.COMPANY.is_at_least(ControlTier.POST)
    assert ControlTier.TEAM.is_at_least("班组")
    assert not ControlTier.POST.is_at_least(ControlTier.TEAM)


@pytest.mark.parametrize(
    ("level", "colour", "colour_en"),
    [(1, "红", "red"), (2, "橙", "orange"), (3, "黄", "yellow"), (4, "蓝", "blue")],
)
def test_level_colours(level: int, colour: str, colour_en: str) -> None:
    assert (Level(level).colour, Level(level).colour_en) == (colour, colour_en)


# --- LEC --------------------------------------------------------------------------------------------


def test_every_reachable_lec_product_gets_the_right_level() -> None:
    combos = lec_combos()
    assert len(combos) > 50
    for d, triples in combos.items():
        for lv, ev, cv in triples:
            result = lec(lv, ev, cv)
            assert Fraction(str(result.value)) == d, (lv, ev, cv)
            assert result.level == expected_lec_level(d), (lv, ev, cv, d)


def test_160_and_320_are_not_reachable_products() -> None:
    # So the 160 and 320 edges can only be tested on the band function, not through factor scores.
    combos = lec_combos()
    assert Fraction(160) not in combos and Fraction(320) not in combos


@pytest.mark.parametrize(
    ("d", "level"),
    [(20, 4), (70, 3), (400, 1), (150, 3), (180, 2), (300, 2), (360, 1), (60, 4)],
)
def test_reachable_lec_edges_through_scores(d: int, level: int) -> None:
    triples = lec_combos()[Fraction(d)]
    for lv, ev, cv in triples:
        result = lec(lv, ev, cv)
        assert (result.value, result.level) == (d, level)


@pytest.mark.parametrize(
    ("d", "level"),
    [(69.9, 4), (70, 3), (159.99, 3), (160, 2), (320, 2), (320.01, 1), (400, 1), (20, 4), (0.001, 4)],
)
def test_lec_band_edges(d: float, level: int) -> None:
    assert DEFAULT_THRESHOLDS.lec_level(d) == level


def test_lec_fractional_product_is_exact() -> None:
    # 0.1 * 0.5 * 1 in binary floating point is 0.05000000000000000277; the product must be exactly 0.05.
    result = lec("0.1", "0.5", "1")
    assert result.value == 0.05 and result.level == Level.LOW
    # 0.2 * 0.5 * 7 = 0.7000000000000001 in floats.
    assert lec("0.2", "0.5", "7").value == 0.7


def test_assessment_fields() -> None:
    result = assess("LEC", {"L": 6, "E": 6, "C": 15})
    assert result == Assessment(
        method=Method.LEC, scores={"L": 6, "E": 6, "C": 15}, value=540, level=Level.MAJOR
    )
    assert result.thresholds is DEFAULT_THRESHOLDS


# --- LS ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ls", "r", "level"),
    [
        ((5, 5), 25, 1), ((4, 5), 20, 1), ((4, 4), 16, 2), ((3, 5), 15, 2), ((3, 4), 12, 3),
        ((3, 3), 9, 3), ((2, 4), 8, 4), ((1, 1), 1, 4),
    ],
)  # fmt: skip
def test_ls_band_edges(ls: tuple[int, int], r: int, level: int) -> None:
    result = assess(Method.LS, {"L": ls[0], "S": ls[1]})
    assert (result.value, result.level) == (r, level)


def test_every_ls_product_gets_the_right_level() -> None:
    for lv, sv in product(range(1, 6), repeat=2):
        result = assess(Method.LS, {"L": lv, "S": sv})
        assert result.value == lv * sv
        assert result.level == expected_ls_level(lv * sv)


# --- invalid factors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "scores", "field", "rule"),
    [
        (Method.LEC, {"L": 2, "E": 1, "C": 1}, "scores.L", "L must be one of 10, 6, 3, 1, 0.5, 0.2, 0.1"),
        (Method.LEC, {"L": 1, "E": 4, "C": 1}, "scores.E", "E must be one of 10, 6, 3, 2, 1, 0.5"),
        (Method.LEC, {"L": 1, "E": 1, "C": 50}, "scores.C", "C must be one of 100, 40, 15, 7, 3, 1"),
        (Method.LEC, {"L": 1, "E": 1, "C": "7"}, "scores.C", "C must be one of 100, 40, 15, 7, 3, 1"),
        (Method.LEC, {"L": True, "E": 1, "C": 1}, "scores.L", "L must be one of 10, 6, 3, 1, 0.5, 0.2, 0.1"),
        (Method.LEC, {"L": 1, "E": 1}, "scores.C", "C is required for LEC"),
        (Method.LEC, {"L": 1, "E": 1, "C": 1, "S": 2}, "scores.S", "S is not a factor of LEC (L, E, C)"),
        (Method.LS, {"L": 6, "S": 1}, "scores.L", "L must be one of 1, 2, 3, 4, 5"),
        (Method.LS, {"L": 2.5, "S": 1}, "scores.L", "L must be one of 1, 2, 3, 4, 5"),
        (Method.LS, {"L": 1, "S": 0}, "scores.S", "S must be one of 1, 2, 3, 4, 5"),
        (Method.LS, {"L": 1}, "scores.S", "S is required for LS"),
    ],
)
def test_invalid_factors_name_the_field(
    method: Method, scores: dict[str, float], field: str, rule: str
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        assess(method, scores)
    assert (excinfo.value.field, excinfo.value.rule) == (field, rule)


def test_all_bad_factors_are_reported_at_once() -> None:
    with pytest.raises(ValidationError) as excinfo:
        assess(Method.LEC, {"L": 2, "C": 8})
    assert [f for f, _ in excinfo.value.violations] == ["scores.L", "scores.E", "scores.C"]


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValidationError) as excinfo:
        assess("MES", {"L": 1})
    assert excinfo.value.field == "method"


# --- thresholds -------------------------------------------------------------------------------------


def test_custom_lec_thresholds_change_the_level() -> None:
    strict = Thresholds(lec_level1_above=200, lec_level2_min=100, lec_level3_min=50)
    assert lec("6", "6", "7").value == 252
    assert lec("6", "6", "7").level == Level.SIGNIFICANT
    assert lec("6", "6", "7", strict).level == Level.MAJOR
    assert lec("10", "6", "1").value == 60
    assert lec("10", "6", "1").level == Level.LOW
    assert lec("10", "6", "1", strict).level == Level.GENERAL
    assert lec("10", "6", "1", strict).thresholds is strict


def test_custom_ls_thresholds_change_the_level() -> None:
    custom = Thresholds(ls_level1_min=16, ls_level2_min=12, ls_level3_min=6)
    assert assess(Method.LS, {"L": 4, "S": 4}).level == Level.SIGNIFICANT
    assert assess(Method.LS, {"L": 4, "S": 4}, custom).level == Level.MAJOR
    assert assess(Method.LS, {"L": 2, "S": 3}, custom).level == Level.GENERAL
    assert assess(Method.LS, {"L": 4, "S": 4}, custom).thresholds is custom


def test_level1_lec_bound_is_exclusive_and_others_inclusive_under_custom_thresholds() -> None:
    t = Thresholds(lec_level1_above=180, lec_level2_min=90, lec_level3_min=60)
    assert [t.lec_level(d) for d in (181, 180, 90, 89.9, 60, 59.9)] == [1, 2, 2, 3, 3, 4]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"lec_level2_min": 400}, "thresholds.lec_level2_min"),
        ({"lec_level3_min": 160}, "thresholds.lec_level3_min"),
        ({"ls_level2_min": 20}, "thresholds.ls_level2_min"),
        ({"ls_level3_min": 16}, "thresholds.ls_level3_min"),
        ({"ls_level1_min": 20.5}, "thresholds.ls_level1_min"),
        ({"lec_level3_min": 0}, "thresholds.lec_level3_min"),
        ({"lec_level1_above": float("nan")}, "thresholds.lec_level1_above"),
        ({"lec_level1_above": "320"}, "thresholds.lec_level1_above"),
    ],
)
def test_invalid_thresholds_are_refused(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        Thresholds(**kwargs)  # type: ignore[arg-type]
    assert excinfo.value.field == field


# --- tiers and notification -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "tier"),
    [(1, ControlTier.COMPANY), (2, ControlTier.WORKSHOP), (3, ControlTier.TEAM), (4, ControlTier.POST)],
)
def test_default_tier(level: int, tier: ControlTier) -> None:
    assert default_tier(level) is tier
    assert check_tier(Level(level), tier) is tier


@pytest.mark.parametrize(
    ("level", "tier"),
    [(4, "公司"), (4, "车间"), (4, "班组"), (3, "车间"), (3, "公司"), (2, "公司")],
)
def test_tier_may_be_raised(level: int, tier: str) -> None:
    assert check_tier(level, tier) == tier


@pytest.mark.parametrize(
    ("level", "tier"),
    [(1, "车间"), (1, "岗位"), (2, "班组"), (2, "岗位"), (3, "岗位")],
)
def test_tier_may_not_be_lowered(level: int, tier: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        check_tier(level, tier)
    assert excinfo.value.field == "control_tier"
    assert tier in excinfo.value.rule


def test_unknown_tier_and_level_are_refused() -> None:
    with pytest.raises(ValidationError) as excinfo:
        check_tier(1, "集团")
    assert excinfo.value.field == "control_tier"
    with pytest.raises(ValidationError) as excinfo:
        default_tier(5)
    assert excinfo.value.field == "level"


@pytest.mark.parametrize(("level", "notify"), [(1, True), (2, True), (3, False), (4, False)])
def test_must_notify_adjacent(level: int, notify: bool) -> None:
    assert must_notify_adjacent(level) is notify
