"""Validation of an enterprise's profile as an ERP sends it: every violation at once."""

from __future__ import annotations

from typing import Any

from services.backbone.errors import ValidationError
from services.kernel.fields import PROFILE_FIELDS
from services.kernel.validation import validate_length, validate_mobile, validate_required


def check_profile(fields: dict[str, Any], partial: bool = False) -> dict[str, Any]:
    """Validates enterprise profile fields; every violation at once, nothing stored on failure."""
    violations: list[tuple[str, str]] = []
    clean: dict[str, Any] = {}

    def attempt(field: str, check: Any) -> None:
        try:
            clean[field] = check()
        except ValidationError as error:
            violations.extend(error.violations)

    for field in PROFILE_FIELDS:
        if partial and field not in fields:
            continue
        value = fields.get(field, "")
        if field == "legal_representative_mobile":
            attempt(field, lambda v=value, f=field: validate_mobile(str(v).strip(), f))
        else:
            attempt(
                field,
                lambda v=value, f=field: validate_length(validate_required(v, f), f, 200),
            )
    contacts = fields.get("contacts")
    if contacts is not None:
        checked = []
        for i, contact in enumerate(contacts):
            try:
                checked.append(
                    {
                        "name": validate_required(contact.get("name", ""), f"contacts[{i}].name"),
                        "role": str(contact.get("role", "")).strip(),
                        "mobile": validate_mobile(
                            str(contact.get("mobile", "")).strip(), f"contacts[{i}].mobile"
                        ),
                    }
                )
            except ValidationError as error:
                violations.extend(error.violations)
        clean["contacts"] = checked
    if violations:
        raise ValidationError.many(violations)
    return clean
