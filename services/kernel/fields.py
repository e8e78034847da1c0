"""The fields of an enterprise's profile and of a risk point, as every part of the hub names them: the
registry checks and stores them, the gateway translates them from and to messages, filing puts them in
the register, notifications keeps what it needs of them. One list each, here."""

from __future__ import annotations

from typing import Any

from services.backbone.errors import ValidationError

# An enterprise's profile as an ERP sends it (its contacts aside, a list of their own).
PROFILE_FIELDS = (
    "name",
    "legal_representative",
    "legal_representative_mobile",
    "industry",
    "address",
    "town",
)
# The profile with the credit code, as a request and an answer carry it (the register names the
# code "uscc").
PROFILE_WITH_CODE = ("unified_social_credit_code", *PROFILE_FIELDS)

# What describes a risk point (everything but its assessment and control tier). The order is part of
# an import item's fingerprint: keep it.
RISK_POINT_TEXT_FIELDS = (
    "name",
    "location",
    "category",
    "responsible_unit",
    "responsible_person",
    "responsible_mobile",
)
RISK_POINT_LIST_FIELDS = ("accident_types", "emergency_measures", "adjacent_units")
RISK_POINT_DETAIL_FIELDS = (
    "name",
    "location",
    "category",
    "accident_types",
    "responsible_unit",
    "responsible_person",
    "responsible_mobile",
    "control_measures",
    "emergency_measures",
    "adjacent_units",
)
# What an enterprise may change of its profile (not its credit code: that is who it is).
PROFILE_CHANGEABLE = (*PROFILE_FIELDS, "contacts")

# What comes of its grading, beside the details.
RISK_POINT_GRADE_FIELDS = ("level", "colour", "control_tier")


def check_changes(changes: dict[str, Any], changeable: tuple[str, ...]) -> None:
    """Refuses a change that names no field, or a field that cannot be changed. A change is what a
    request's update_mask selects (field → new value), so the fields are named as the mask names them."""
    if not changes:
        raise ValidationError("update_mask", "name at least one field to change")
    unknown = [f for f in changes if f not in changeable]
    if unknown:
        raise ValidationError.many((f"update_mask[{f}]", "not a field that can be changed") for f in unknown)
