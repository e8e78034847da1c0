"""Input checks that collect every violation (field, rule) before anything is stored."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, TypeVar

from services.backbone.errors import ValidationError
from services.kernel.validation import DateWindow, happened, uuid_field

E = TypeVar("E", bound=StrEnum)
MOBILE = re.compile(r"1[3-9][0-9]{9}")  # [0-9], not \d: \d accepts full-width digits
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")
DIGEST = re.compile(r"[0-9a-f]{64}")  # SM3 and SHA-256 are both 256-bit
HASH_ALGORITHMS = ("sm3", "sha256")


class Checks:
    """Runs checks, remembering each violation; `done()` raises them all at once."""

    def __init__(self) -> None:
        self.violations: list[tuple[str, str]] = []

    def fail(self, field: str, rule: str) -> None:
        self.violations.append((field, rule))

    def text(self, value: Any, field: str, required: bool = True, max_length: int = 2000) -> str:
        text = str(value if value is not None else "").strip()
        if required and not text:
            self.fail(field, "is required")
        elif len(text) > max_length:
            self.fail(field, f"must be at most {max_length} characters")
        return text

    def texts(self, values: Any, field: str, required: bool = True) -> list[str]:
        items = [str(v).strip() for v in (values or [])]
        if required and not any(items):
            self.fail(field, "name at least one")
        for i, item in enumerate(items):
            if not item:
                self.fail(f"{field}[{i}]", "must not be empty")
        return [i for i in items if i]

    def date(self, value: Any, field: str, window: DateWindow | None = None) -> str:
        """A date within `window` (default: a day that has happened, kernel.validation.happened)."""
        try:
            return (window or happened()).check(value, field).isoformat()
        except ValidationError as error:
            self.violations.extend(error.violations)
            return str(value or "")

    def uuid(self, value: Any, field: str) -> str:
        """The canonical text of a UUID the field names."""
        try:
            return str(uuid_field(value, field))
        except ValidationError as error:
            self.violations.extend(error.violations)
            return str(value or "")

    def mobile(self, value: Any, field: str) -> str:
        text = str(value or "").strip()
        if not MOBILE.fullmatch(text):
            self.fail(field, "must be a mainland mobile number ^1[3-9]\\d{9}$")
        return text

    def choice(self, value: Any, field: str, enum: type[E]) -> E | None:
        for member in enum:
            if value in (member, member.value, member.name):
                return member
        allowed = ", ".join(m.value for m in enum)
        self.fail(field, f"must be one of {allowed}" if value else f"is required (one of {allowed})")
        return None

    def evidence(self, items: Any, field: str = "evidence") -> list[dict[str, str]]:
        """References to evidence kept elsewhere: a URI and the SM3 or SHA-256 digest of its bytes."""
        clean = []
        for i, item in enumerate(items or []):
            uri = str(item.get("uri", "")).strip()
            algorithm = str(item.get("hash_algorithm", "")).strip().lower()
            digest = str(item.get("digest", "")).strip().lower()
            if not URI.fullmatch(uri):
                self.fail(f"{field}[{i}].uri", "must be an absolute URI (scheme://...)")
            if algorithm not in HASH_ALGORITHMS:
                self.fail(f"{field}[{i}].hash_algorithm", "must be sm3 or sha256")
            if not DIGEST.fullmatch(digest):
                self.fail(f"{field}[{i}].digest", "must be 64 hexadecimal characters")
            clean.append({"uri": uri, "hash_algorithm": algorithm, "digest": digest})
        return clean

    def done(self) -> None:
        if self.violations:
            raise ValidationError.many(self.violations)
