"""Risk point vocabularies (category, accident type, measures, tiers, levels) and LEC / LS risk grading."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal

from services.backbone.errors import ValidationError


class Category(enum.StrEnum):
    """The ten risk point categories."""

    PRODUCTION_SYSTEM = "生产系统"
    EQUIPMENT = "设备设施"
    PIPELINE = "输送管线"
    OPERATION = "操作行为"
    OCCUPATIONAL_HEALTH = "职业健康"
    ENVIRONMENT = "环境条件"
    MINED_OUT_AREA = "矿山采空区"
    CONSTRUCTION_SITE = "施工场所"
    WASTE_DUMP = "垃圾堆场"
    SAFETY_MANAGEMENT = "安全管理"


class AccidentType(enum.StrEnum):
    """The 20 accident types of GB 6441-1986, in the standard's order (``code`` is its number 1..20)."""

    STRUCK_BY_OBJECT = "物体打击"
    VEHICLE = "车辆伤害"
    MACHINERY = "机械伤害"
    LIFTING = "起重伤害"
    ELECTROCUTION = "触电"
    DROWNING = "淹溺"
    BURN = "灼烫"
    FIRE = "火灾"
    FALL_FROM_HEIGHT = "高处坠落"
    COLLAPSE = "坍塌"
    ROOF_FALL = "冒顶片帮"
    WATER_INRUSH = "透水"
    BLASTING = "放炮"
    EXPLOSIVE_EXPLOSION = "火药爆炸"
    GAS_EXPLOSION = "瓦斯爆炸"
    BOILER_EXPLOSION = "锅炉爆炸"
    VESSEL_EXPLOSION = "容器爆炸"
    OTHER_EXPLOSION = "其他爆炸"
    POISONING_ASPHYXIATION = "中毒和窒息"
    OTHER_INJURY = "其他伤害"

    @property
    def code(self) -> int:
        """The type's number in GB 6441-1986 (1 = 物体打击 ... 20 = 其他伤害)."""
        return list(AccidentType).index(self) + 1

    @classmethod
    def _missing_(cls, value: object) -> AccidentType | None:
        # Published texts of the standard write both 其它 and 其他; 其他 (DESIGN's spelling) is stored,
        # 其它 is accepted on input.
        if isinstance(value, str) and "其它" in value:
            member = cls._value2member_map_.get(value.replace("其它", "其他"))
            return member if isinstance(member, AccidentType) else None
        return None


class ControlMeasureType(enum.StrEnum):
    """The six types of control measure."""

    MANAGEMENT_SYSTEM = "制度管理"
    ENGINEERING = "物理工程"
    ONLINE_MONITORING = "在线监测"
    VIDEO_SURVEILLANCE = "视频监控"
    AUTOMATED_CONTROL = "自动化控制"
    EMERGENCY_MANAGEMENT = "应急管理"


class ControlTier(enum.StrEnum):
    """The organisational tier that controls a risk point; ``rank`` 1 (公司) is the highest, 4 (岗位) lowest.

    Compare tiers by ``rank`` (or ``is_at_least``), never with ``<``: that compares the Chinese strings.
    """

    COMPANY = "公司"
    WORKSHOP = "车间"
    TEAM = "班组"
    POST = "岗位"

    @property
    def rank(self) -> int:
        """1 for 公司 (highest) down to 4 for 岗位 (lowest)."""
        return list(ControlTier).index(self) + 1

    def is_at_least(self, other: ControlTier | str) -> bool:
        """True if this tier is the same as or higher than ``other``."""
        return self.rank <= ControlTier(other).rank


class Level(enum.IntEnum):
    """Risk level, 1 (重大, red) the most severe to 4 (低, blue)."""

    MAJOR = 1
    SIGNIFICANT = 2
    GENERAL = 3
    LOW = 4

    @property
    def colour(self) -> str:
        """The level's colour in Chinese: 红, 橙, 黄, 蓝."""
        return ("红", "橙", "黄", "蓝")[self - 1]

    @property
    def colour_en(self) -> str:
        """The level's colour in English: red, orange, yellow, blue."""
        return ("red", "orange", "yellow", "blue")[self - 1]

    @property
    def label(self) -> str:
        """The level's Chinese name: 重大风险, 较大风险, 一般风险, 低风险."""
        return ("重大风险", "较大风险", "一般风险", "低风险")[self - 1]


class Method(enum.StrEnum):
    """Assessment method: LEC (D = L·E·C) or the LS matrix (R = L·S)."""

    LEC = "LEC"
    LS = "LS"


# Allowed factor values, in the order of the standard tables (used verbatim in error messages).
LEC_FACTORS: dict[str, tuple[float, ...]] = {
    "L": (10, 6, 3, 1, 0.5, 0.2, 0.1),
    "E": (10, 6, 3, 2, 1, 0.5),
    "C": (100, 40, 15, 7, 3, 1),
}
LS_FACTORS: dict[str, tuple[float, ...]] = {"L": (1, 2, 3, 4, 5), "S": (1, 2, 3, 4, 5)}
FACTORS: dict[Method, dict[str, tuple[float, ...]]] = {Method.LEC: LEC_FACTORS, Method.LS: LS_FACTORS}
# A score as given → the table's value it equals (3.0 → 3): one look-up, not a scan, per factor.
_ALLOWED: dict[Method, dict[str, dict[float, float]]] = {
    m: {name: {a: a for a in allowed} for name, allowed in table.items()} for m, table in FACTORS.items()
}


def _exact(x: float | Decimal) -> Decimal:
    # Via str(): Decimal(0.1) would be the binary approximation, Decimal("0.1") is exact.
    return Decimal(str(x))


@dataclass(frozen=True)
class Thresholds:
    """Level bands of one locality; the defaults are the standard ones.

    LEC, on D = L·E·C (the level-1 bound is *exclusive*, the others *inclusive*, as in the standard)::

        D >  lec_level1_above   -> 1    (default D > 320)
        D >= lec_level2_min     -> 2    (default 160 <= D <= 320)
        D >= lec_level3_min     -> 3    (default 70 <= D < 160)
        otherwise               -> 4    (default D < 70)

    LS, on R = L·S (all three bounds *inclusive*)::

        R >= ls_level1_min -> 1 (default 20-25); R >= ls_level2_min -> 2 (15-16);
        R >= ls_level3_min -> 3 (9-12); otherwise 4 (<= 8)

    Each method's bounds must be positive and strictly decreasing (level 1 bound the largest).
    """

    lec_level1_above: float = 320
    lec_level2_min: float = 160
    lec_level3_min: float = 70
    ls_level1_min: int = 20
    ls_level2_min: int = 15
    ls_level3_min: int = 9

    def __post_init__(self) -> None:
        violations: list[tuple[str, str]] = []
        for f in fields(self):
            value = getattr(self, f.name)
            integral = f.name.startswith("ls_")
            allowed = (int,) if integral else (int, float)
            if isinstance(value, bool) or not isinstance(value, allowed) or not math.isfinite(value):
                kind = "an integer" if integral else "a finite number"
                violations.append((f"thresholds.{f.name}", f"must be {kind}"))
            elif value <= 0:
                violations.append((f"thresholds.{f.name}", "must be positive"))
        if violations:
            raise ValidationError.many(violations)
        for prefix, names in (
            ("lec", ("lec_level1_above", "lec_level2_min", "lec_level3_min")),
            ("ls", ("ls_level1_min", "ls_level2_min", "ls_level3_min")),
        ):
            for higher, lower in zip(names, names[1:], strict=False):
                if not getattr(self, higher) > getattr(self, lower):
                    violations.append(
                        (
                            f"thresholds.{lower}",
                            f"{prefix.upper()} bounds must be strictly decreasing: {lower} "
                            f"({getattr(self, lower)}) must be below {higher} ({getattr(self, higher)})",
                        )
                    )
        if violations:
            raise ValidationError.many(violations)

    def lec_level(self, d: float | Decimal) -> Level:
        """The level of an LEC value D under these thresholds."""
        exact = _exact(d)
        if exact > _exact(self.lec_level1_above):
            return Level.MAJOR
        if exact >= _exact(self.lec_level2_min):
            return Level.SIGNIFICANT
        if exact >= _exact(self.lec_level3_min):
            return Level.GENERAL
        return Level.LOW

    def ls_level(self, r: float) -> Level:
        """The level of an LS value R under these thresholds."""
        if r >= self.ls_level1_min:
            return Level.MAJOR
        if r >= self.ls_level2_min:
            return Level.SIGNIFICANT
        if r >= self.ls_level3_min:
            return Level.GENERAL
        return Level.LOW


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Assessment:
    """One LEC or LS assessment: the factor scores, their product (D or R) and the resulting level.

    ``scores`` holds exactly the method's factors with the canonical values from the standard tables.
    ``thresholds`` records the bands used, so the level can be explained and replayed later.
    """

    method: Method
    scores: dict[str, float]
    value: float
    level: Level
    thresholds: Thresholds = DEFAULT_THRESHOLDS


def _format_allowed(allowed: tuple[float, ...]) -> str:
    return ", ".join(str(v) for v in allowed)


def assess(
    method: Method | str, scores: Mapping[str, float], thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> Assessment:
    """Validate the factor scores of ``method`` and grade them; every bad or missing factor is reported.

    LEC needs L, E and C; LS needs L and S. Unknown factors are refused too (they signal the wrong method).
    D is computed in exact decimal arithmetic, so a product sitting on a band edge is never misgraded.
    """
    try:
        m = Method(method)
    except ValueError:
        raise ValidationError("method", f"must be one of {', '.join(Method)}, got {method!r}") from None
    if not isinstance(scores, Mapping):
        raise ValidationError("scores", f"must be a mapping of factor name to score for {m}")
    table = FACTORS[m]
    canonical: dict[str, float] = {}
    violations: list[tuple[str, str]] = []
    for name, allowed in _ALLOWED[m].items():
        field = f"scores.{name}"
        if name not in scores or scores[name] is None:
            violations.append((field, f"{name} is required for {m}"))
            continue
        raw = scores[name]
        match = allowed.get(raw) if not isinstance(raw, bool) and isinstance(raw, int | float) else None
        if match is None:
            violations.append((field, f"{name} must be one of {_format_allowed(table[name])}"))
        else:
            canonical[name] = match
    for name in scores:
        if name not in table:
            violations.append((f"scores.{name}", f"{name} is not a factor of {m} ({', '.join(table)})"))
    if violations:
        raise ValidationError.many(violations)
    if m is Method.LEC:
        d = _exact(canonical["L"]) * _exact(canonical["E"]) * _exact(canonical["C"])
        value: float = int(d) if d == d.to_integral_value() else float(d)
        level = thresholds.lec_level(d)
    else:
        value = int(canonical["L"]) * int(canonical["S"])
        level = thresholds.ls_level(value)
    return Assessment(method=m, scores=canonical, value=value, level=level, thresholds=thresholds)


_DEFAULT_TIER = {
    Level.MAJOR: ControlTier.COMPANY,
    Level.SIGNIFICANT: ControlTier.WORKSHOP,
    Level.GENERAL: ControlTier.TEAM,
    Level.LOW: ControlTier.POST,
}


def _level(level: Level | int) -> Level:
    try:
        return Level(level)
    except ValueError:
        raise ValidationError("level", f"must be 1, 2, 3 or 4, got {level!r}") from None


def default_tier(level: Level | int) -> ControlTier:
    """The control tier a level requires by default: 1 公司, 2 车间, 3 班组, 4 岗位."""
    return _DEFAULT_TIER[_level(level)]


def check_tier(level: Level | int, tier: ControlTier | str) -> ControlTier:
    """The tier if it is the level's default or higher (override upward only), else ValidationError."""
    try:
        chosen = ControlTier(tier)
    except ValueError:
        raise ValidationError(
            "control_tier", f"must be one of {', '.join(ControlTier)}, got {tier!r}"
        ) from None
    required = default_tier(level)
    if not chosen.is_at_least(required):
        raise ValidationError(
            "control_tier",
            f"{chosen} is below {required}, the default tier for level {int(level)}; "
            "a tier may only be raised, never lowered",
        )
    return chosen


def must_notify_adjacent(level: Level | int) -> bool:
    """True for level 1 and 2 risk points, which must be notified to adjacent units."""
    return _level(level) <= Level.SIGNIFICANT
