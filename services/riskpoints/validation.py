"""Checks risk point input from ERP systems; every violation is named by its field and rule."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from services.backbone.errors import ValidationError
from services.kernel.fields import RISK_POINT_DETAIL_FIELDS
from services.kernel.validation import validate_length, validate_mobile, validate_required
from services.riskpoints.grading import (
    AccidentType,
    Assessment,
    Category,
    ControlMeasureType,
    ControlTier,
    Thresholds,
    assess,
)

T = TypeVar("T")

DETAIL_FIELDS = RISK_POINT_DETAIL_FIELDS
MAX_LIST = 50


class Violations:
    """Collects (field, rule) pairs so that one answer names every problem of an input."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.found: list[tuple[str, str]] = []

    def check(self, check: Callable[..., T], *args: Any) -> T | None:
        try:
            return check(*args)
        except ValidationError as error:
            self.found.extend((self.prefix + f, r) for f, r in error.violations)
            return None

    def raise_any(self) -> None:
        if self.found:
            raise ValidationError.many(self.found)


def text(value: Any, field: str, max_len: int) -> str:
    return validate_length(validate_required(value, field), field, max_len)


def _list(value: Any, field: str, required: bool) -> list[Any]:
    if value is None:
        value = []
    if not isinstance(value, list | tuple):
        raise ValidationError(field, "must be a list")
    if required and not value:
        raise ValidationError(field, "name at least one")
    if len(value) > MAX_LIST:
        raise ValidationError(field, f"at most {MAX_LIST} entries, got {len(value)}")
    return list(value)


E = TypeVar("E", bound=Enum)


def _members(enum: type[E]) -> Callable[[Any], E | None]:
    """The member of an enumeration with this value, or None: its own value map first, where calling
    the enumeration (several per item of an import) goes through its metaclass; the call for the
    rest, which its _missing_ may still accept (其它 for 其他), and is then remembered."""
    by_value = enum._value2member_map_
    aliases: dict[Any, E] = {}  # names _missing_ accepted (其它爆炸 in every item of an ERP's import)

    def member(value: Any) -> E | None:
        try:
            found = by_value.get(value) or aliases.get(value)
        except TypeError:  # unhashable: a list or an object where a name was wanted
            return None
        if found is not None:
            return found  # type: ignore[return-value]
        try:
            found = enum(value)
        except ValueError:
            return None
        if len(aliases) < 64:  # _missing_ accepts a handful; never let input grow this without bound
            aliases[value] = found
        return found

    return member


_category, _accident, _measure = _members(Category), _members(AccidentType), _members(ControlMeasureType)


def category(value: Any) -> str:
    found = _category(value)
    if found is None:
        raise ValidationError("category", f"must be one of {', '.join(Category)}")
    return found.value


GB6441_ORDER = {t: i for i, t in enumerate(AccidentType)}


def accident_types(value: Any) -> list[str]:
    found: set[AccidentType] = set()
    violations: list[tuple[str, str]] = []
    for i, raw in enumerate(_list(value, "accident_types", required=True)):
        accident = _accident(raw)
        if accident is None:
            violations.append((f"accident_types[{i}]", "must be an accident type of GB 6441-1986"))
        else:
            found.add(accident)
    if violations:
        raise ValidationError.many(violations)
    return [t.value for t in sorted(found, key=GB6441_ORDER.__getitem__)]


def measure_kind(value: Any, field: str) -> str:
    found = _measure(value)
    if found is None:
        raise ValidationError(field, f"must be one of {', '.join(ControlMeasureType)}")
    return found.value


def control_measures(value: Any) -> list[dict[str, str]]:
    checks = Violations()
    measures = []
    for i, raw in enumerate(_list(value, "control_measures", required=True)):
        field = f"control_measures[{i}]"
        if not isinstance(raw, Mapping):
            checks.found.append((field, "must be an object with type and description"))
            continue

        measure_type = checks.check(measure_kind, raw.get("type"), f"{field}.type")
        description = checks.check(text, raw.get("description"), f"{field}.description", 500)
        if measure_type and description:
            measures.append({"type": measure_type, "description": description})
    checks.raise_any()
    return measures


def texts(value: Any, field: str, required: bool, max_len: int) -> list[str]:
    """Stripped, non-blank, unique (first occurrence kept) texts."""
    checks = Violations()
    cleaned: list[str] = []
    for i, raw in enumerate(_list(value, field, required)):
        item = checks.check(text, raw, f"{field}[{i}]", max_len)
        if item is not None and item not in cleaned:
            cleaned.append(item)
    checks.raise_any()
    return cleaned


DETAIL_CHECKS: dict[str, Callable[[Any], Any]] = {
    "name": lambda v: text(v, "name", 100),
    "location": lambda v: text(v, "location", 200),
    "category": category,
    "accident_types": accident_types,
    "responsible_unit": lambda v: text(v, "responsible_unit", 100),
    "responsible_person": lambda v: text(v, "responsible_person", 50),
    "responsible_mobile": lambda v: validate_mobile(v if isinstance(v, str) else "", "responsible_mobile"),
    "control_measures": control_measures,
    "emergency_measures": lambda v: texts(v, "emergency_measures", True, 500),
    "adjacent_units": lambda v: texts(v, "adjacent_units", False, 100),
}


def clean_details(
    data: Mapping[str, Any], partial: bool = False, checks: Violations | None = None
) -> dict[str, Any]:
    """The risk point's details as plain values; with `partial`, only the fields given."""
    own = checks is None
    checks = checks or Violations()
    clean: dict[str, Any] = {}
    for field, check in DETAIL_CHECKS.items():
        if partial and field not in data:
            continue
        value = checks.check(check, data.get(field))
        if value is not None:
            clean[field] = value
    if own:
        checks.raise_any()
    return clean


def clean_tier(value: Any) -> str | None:
    """A requested control tier (an override of the level's default), or None for the default."""
    if value in (None, ""):
        return None
    try:
        return ControlTier(value).value
    except ValueError:
        raise ValidationError("control_tier", f"must be one of {', '.join(ControlTier)}") from None


def clean_assessment(data: Any, thresholds: Thresholds) -> Assessment:
    if not isinstance(data, Mapping):
        raise ValidationError("assessment", "is required: a method (LEC or LS) and its factor scores")
    try:
        return assess(data.get("method", ""), data.get("scores") or {}, thresholds)
    except ValidationError as error:
        raise ValidationError.many((f"assessment.{f}", r) for f, r in error.violations) from None


def clean_external_id(value: Any) -> str:
    external = text(value, "external_id", 64)
    if not external.isprintable():
        raise ValidationError("external_id", "must be printable text")
    return external


@dataclass(frozen=True)
class ItemInput:
    """One risk point as an ERP system describes it: the whole truth about it, checked."""

    external_id: str
    details: dict[str, Any]
    assessment: Assessment
    control_tier: str | None


def clean_item(data: Any, thresholds: Thresholds) -> ItemInput:
    """Checks one whole risk point; ValidationError names every problem at once."""
    if not isinstance(data, Mapping):
        raise ValidationError("(item)", "must be an object")
    try:  # valid input, the usual case, in one pass
        return ItemInput(
            clean_external_id(data.get("external_id")),
            {field: check(data.get(field)) for field, check in DETAIL_CHECKS.items()},
            clean_assessment(data.get("assessment"), thresholds),
            clean_tier(data.get("control_tier")),
        )
    except ValidationError:
        pass  # again, naming every problem rather than the first
    checks = Violations()
    external = checks.check(clean_external_id, data.get("external_id"))
    details = clean_details(data, checks=checks)
    assessment = checks.check(clean_assessment, data.get("assessment"), thresholds)
    tier = checks.check(clean_tier, data.get("control_tier"))
    checks.raise_any()
    assert external is not None and assessment is not None
    return ItemInput(external, details, assessment, tier)
