"""Risk points (风险点): identified, graded, controlled and retired by their enterprise, never deleted."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import uuid
from typing import Any

import orjson
from eventsourcing.domain import event

from services.backbone.aggregate import HubAggregate
from services.backbone.errors import TransitionError, ValidationError
from services.kernel.identity import risk_point_id
from services.riskpoints.grading import (
    Assessment,
    ControlTier,
    Level,
    Thresholds,
    default_tier,
    must_notify_adjacent,
)
from services.riskpoints.validation import DETAIL_FIELDS

KEEP = "keep"  # change(): leave the requested control tier as it is


@functools.lru_cache(maxsize=64)
def _bands(thresholds: Thresholds) -> dict[str, Any]:
    return dataclasses.asdict(thresholds)


def assessment_record(assessment: Assessment, reason: str = "") -> dict[str, Any]:
    """An assessment as it is stored in events and kept in the history."""
    return {
        "method": str(assessment.method),
        "scores": dict(assessment.scores),
        "value": assessment.value,
        "level": int(assessment.level),
        "colour": assessment.level.colour,
        "thresholds": dict(_bands(assessment.thresholds)),
        "reason": reason,
    }


def resolve_tier(level: Level, requested: str | None, strict: bool) -> tuple[str | None, str]:
    """(the kept override, the effective tier). An override may raise the tier, never lower it:
    a requested one below the level's default is refused (`strict`) or dropped (after a re-grading)."""
    required = default_tier(level)
    if requested is None or requested == required:
        return None, required.value
    if ControlTier(requested).is_at_least(required):
        return requested, requested
    if strict:
        raise ValidationError(
            "control_tier",
            f"{requested} is below {required}, the default tier for level {int(level)}; "
            "a tier may only be raised, never lowered",
        )
    return None, required.value


def require_adjacent_units(level: Level, units: list[str]) -> None:
    if must_notify_adjacent(level) and not units:
        raise ValidationError(
            "adjacent_units", f"a level {int(level)} risk point must name the adjacent units to notify"
        )


def import_form(
    details: dict[str, Any], method: str, scores: dict[str, Any], level: int, tier: str | None
) -> dict[str, Any]:
    """What an import item says about a risk point; equal forms mean nothing to change."""
    return {**{f: details[f] for f in DETAIL_FIELDS}, "method": method, "scores": scores, "level": level,
            "control_tier": tier or ""}  # fmt: skip


def fingerprint(form: dict[str, Any]) -> str:
    """A short hash of an import form, kept with the risk point to know a re-sent item unchanged.

    Of its canonical JSON: sorted keys, no spaces, UTF-8. orjson writes exactly the bytes the
    standard library's json.dumps(sort_keys=True, ensure_ascii=False, separators=(",", ":")) wrote
    for these forms (texts, lists, integers and the factor tables' scores), five times faster; the
    fingerprints stored before stay valid (tests/unit/test_riskpoint_domain.py holds them equal)."""
    return hashlib.sha256(orjson.dumps(form, option=orjson.OPT_SORT_KEYS)).hexdigest()[:24]


class RiskPoint(HubAggregate):
    """A place, device or activity that can cause an accident, graded 1 (重大) to 4 (低)."""

    @staticmethod
    def create_id(enterprise_id: str, external_id: str, **_: Any) -> uuid.UUID:
        return risk_point_id(enterprise_id, external_id)

    @event("Identified")
    def __init__(
        self,
        enterprise_id: str,
        external_id: str,
        name: str,
        location: str,
        category: str,
        accident_types: list[str],
        responsible_unit: str,
        responsible_person: str,
        responsible_mobile: str,
        control_measures: list[dict[str, str]],
        emergency_measures: list[str],
        adjacent_units: list[str],
        assessment: dict[str, Any],
        level: int,
        colour: str,
        control_tier: str,
        control_tier_override: str | None,
    ) -> None:
        self.enterprise_id, self.external_id = enterprise_id, external_id
        self.name, self.location, self.category = name, location, category
        self.accident_types = accident_types
        self.responsible_unit, self.responsible_person = responsible_unit, responsible_person
        self.responsible_mobile = responsible_mobile
        self.control_measures, self.emergency_measures = control_measures, emergency_measures
        self.adjacent_units = adjacent_units
        self.assessments: list[dict[str, Any]] = [assessment]
        self.level = Level(level)
        self.control_tier, self.control_tier_override = control_tier, control_tier_override
        self.retired, self.retired_reason = False, ""

    @classmethod
    def identify(
        cls,
        enterprise_id: str,
        external_id: str,
        details: dict[str, Any],
        assessment: Assessment,
        tier: str | None = None,
        point_id: uuid.UUID | None = None,
    ) -> RiskPoint:
        """A newly identified risk point, graded; level 1 and 2 ones call for notifying neighbours."""
        override, effective = resolve_tier(assessment.level, tier, strict=True)
        require_adjacent_units(assessment.level, details["adjacent_units"])
        # _create with the id: the same as cls(...), without deriving the id a second time.
        point = cls._create(
            cls.Identified,  # type: ignore[attr-defined]
            id=point_id or risk_point_id(enterprise_id, external_id),
            enterprise_id=enterprise_id,
            external_id=external_id,
            **{f: details[f] for f in DETAIL_FIELDS},
            assessment=assessment_record(assessment),
            level=int(assessment.level),
            colour=assessment.level.colour,
            control_tier=effective,
            control_tier_override=override,
        )
        point._notify_adjacent_units(None, [])
        return point

    # -- reading ---------------------------------------------------------------------------
    def details(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in DETAIL_FIELDS}

    @property
    def assessment(self) -> dict[str, Any]:
        return self.assessments[-1]

    def import_form(self) -> dict[str, Any]:
        current = self.assessment
        return import_form(
            self.details(), current["method"], current["scores"], int(self.level), self.control_tier_override
        )

    # -- commands --------------------------------------------------------------------------
    def change(
        self,
        details: dict[str, Any],
        assessment: Assessment | None = None,
        tier: str | None = KEEP,
        reason: str = "",
    ) -> bool:
        """Applies new details, a new assessment and/or a new requested tier; True if anything changed.

        Everything is checked before the first event, so a refused change leaves no trace.
        """
        self._require_active("change")
        level = assessment.level if assessment is not None else self.level
        requested = self.control_tier_override if tier == KEEP else tier
        override, effective = resolve_tier(level, requested, strict=tier != KEEP)
        units = details.get("adjacent_units", self.adjacent_units)
        require_adjacent_units(level, units)
        before_level, before_units, before_version = self.level, list(self.adjacent_units), self.version
        if assessment is not None and self._differs(assessment):
            record = assessment_record(assessment, reason)
            self._assessed(
                enterprise_id=self.enterprise_id,
                assessment=record,
                level=record["level"],
                colour=record["colour"],
                control_tier=effective,
                control_tier_override=override,
            )
        changes = {k: v for k, v in details.items() if getattr(self, k) != v}
        if (effective, override) != (self.control_tier, self.control_tier_override):
            changes.update(control_tier=effective, control_tier_override=override)
        if changes:
            self._updated(enterprise_id=self.enterprise_id, changes=changes)
        self._notify_adjacent_units(before_level, before_units)
        return self.version != before_version

    def retire(self, reason: str) -> None:
        """Takes the risk point out of use; it and its history stay."""
        self._require_active("retire")
        self._retired(enterprise_id=self.enterprise_id, external_id=self.external_id, reason=reason)

    # -- events ----------------------------------------------------------------------------
    @event("Assessed")
    def _assessed(
        self,
        enterprise_id: str,
        assessment: dict[str, Any],
        level: int,
        colour: str,
        control_tier: str,
        control_tier_override: str | None,
    ) -> None:
        self.assessments = [*self.assessments, assessment]
        self.level = Level(level)
        self.control_tier, self.control_tier_override = control_tier, control_tier_override

    @event("Updated")
    def _updated(self, enterprise_id: str, changes: dict[str, Any]) -> None:
        for key, value in changes.items():
            setattr(self, key, value)

    @event("AdjacentNotificationRequired")
    def _adjacent_notification_required(
        self,
        enterprise_id: str,
        external_id: str,
        name: str,
        location: str,
        level: int,
        colour: str,
        accident_types: list[str],
        adjacent_units: list[str],
    ) -> None:
        pass  # a fact for the notifications service; the risk point itself does not change

    @event("Retired")
    def _retired(self, enterprise_id: str, external_id: str, reason: str) -> None:
        self.retired, self.retired_reason = True, reason

    # -- rules -----------------------------------------------------------------------------
    def _require_active(self, action: str) -> None:
        if self.retired:
            raise TransitionError("risk_point_id", f"cannot {action} a retired risk point", "retired")

    def _differs(self, assessment: Assessment) -> bool:
        current = self.assessment
        return (current["method"], current["scores"], current["level"]) != (
            str(assessment.method),
            dict(assessment.scores),
            int(assessment.level),
        )

    def _notify_adjacent_units(self, before_level: Level | None, before_units: list[str]) -> None:
        """Level 1 and 2 risk points are notified to adjacent units: all of them when the level
        changes, the newly named ones otherwise."""
        if not must_notify_adjacent(self.level):
            return
        if before_level == self.level:
            units = [u for u in self.adjacent_units if u not in before_units]
        else:
            units = list(self.adjacent_units)
        if units:
            self._adjacent_notification_required(
                enterprise_id=self.enterprise_id,
                external_id=self.external_id,
                name=self.name,
                location=self.location,
                level=int(self.level),
                colour=self.level.colour,
                accident_types=list(self.accident_types),
                adjacent_units=units,
            )
