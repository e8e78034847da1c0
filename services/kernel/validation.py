"""Validators of values with a rule or a range, shared by every service and edge: credit code, mobile
number, required and bounded text."""

from __future__ import annotations

import re
import uuid

from services.backbone.errors import ValidationError

USCC_FIELD = "unified_social_credit_code"
USCC_LENGTH = 18
# GB 32100-2015 charset; the index of a character is its value. I, O, S, V and Z are never used.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_VALUES = {ch: i for i, ch in enumerate(USCC_CHARSET)}
USCC_FORBIDDEN_LETTERS = "IOSVZ"
# Weight of position i (1-based, i = 1..17) is 3^(i-1) mod 31.
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
# GB 11714-1997 organisation code: weights of its first 8 characters.
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

MOBILE = re.compile(r"1[3-9][0-9]{9}")  # [0-9], not \d: \d would accept full-width and other digits


def uscc_check_digit(first17: str) -> str:
    """The GB 32100 check character (position 18) for the first 17 characters of a credit code."""
    total = sum(USCC_VALUES[ch] * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def _org_char_value(ch: str) -> int:
    # GB 11714-1997 values letters by their plain alphabet index (A=10 ... Z=35), not by their position in
    # the USCC charset (where I, O, S, V, Z are skipped, so e.g. M is 21 there but 22 here). The two
    # mappings agree on every digit and on A-H only; see the tests for a code that tells them apart.
    return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10


def org_code_check_digit(first8: str) -> str:
    """The GB 11714-1997 check character for the first 8 characters of an organisation code."""
    total = sum(_org_char_value(ch) * w for ch, w in zip(first8, ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def validate_uscc(code: str) -> str:
    """The normalised (stripped, upper-case) 18-character unified social credit code, or ValidationError.

    Checks, in order: length; charset (naming the first offending character); administrative division code
    (positions 3-8) all digits; the embedded organisation code's GB 11714 check digit (position 17); the
    overall GB 32100 check digit (position 18). Registration authority and organisation type codes
    (positions 1-2) are only checked against the charset.
    """
    if not isinstance(code, str):
        raise ValidationError(USCC_FIELD, f"must be a string of {USCC_LENGTH} characters")
    normalised = code.strip().upper()
    if len(normalised) != USCC_LENGTH:
        raise ValidationError(USCC_FIELD, f"must be {USCC_LENGTH} characters long, got {len(normalised)}")
    for position, ch in enumerate(normalised, start=1):
        if ch in USCC_VALUES:
            continue
        if ch in USCC_FORBIDDEN_LETTERS:
            raise ValidationError(
                USCC_FIELD,
                f"character '{ch}' at position {position} is not allowed "
                f"(the letters {', '.join(USCC_FORBIDDEN_LETTERS)} are never used)",
            )
        raise ValidationError(
            USCC_FIELD,
            f"character '{ch}' at position {position} is not allowed (allowed: {USCC_CHARSET})",
        )
    division = normalised[2:8]
    if not division.isdigit():  # charset is ASCII only here, so isdigit() means 0-9
        raise ValidationError(
            USCC_FIELD, f"administrative division code (positions 3-8) must be 6 digits, got '{division}'"
        )
    org_code = normalised[8:17]
    expected_org = org_code_check_digit(org_code[:8])
    if org_code[8] != expected_org:
        raise ValidationError(
            USCC_FIELD,
            f"organisation code {org_code} check digit (position 17) is '{org_code[8]}', "
            f"expected '{expected_org}'",
        )
    expected = uscc_check_digit(normalised[:17])
    if normalised[17] != expected:
        raise ValidationError(
            USCC_FIELD, f"check digit (position 18) is '{normalised[17]}', expected '{expected}'"
        )
    return normalised


def validate_mobile(value: str, field: str = "mobile") -> str:
    """The stripped mainland mobile number (``^1[3-9]\\d{9}$``, ASCII digits), or ValidationError."""
    # The rule never echoes the number: it is personal data and errors end up in logs.
    if not isinstance(value, str) or not MOBILE.fullmatch(value.strip()):
        raise ValidationError(field, "must be an 11-digit mobile number starting with 13-19")
    return value.strip()


def validate_required(value: str | None, field: str) -> str:
    """The stripped text, or ValidationError when it is missing, not text, or blank."""
    if value is None:
        raise ValidationError(field, "is required")
    if not isinstance(value, str):
        raise ValidationError(field, "must be text")
    stripped = value.strip()
    if not stripped:
        raise ValidationError(field, "is required and must not be blank")
    return stripped


def validate_length(value: str, field: str, max_len: int) -> str:
    """The text unchanged if it has at most ``max_len`` characters (not bytes), else ValidationError."""
    if not isinstance(value, str):
        raise ValidationError(field, "must be text")
    if len(value) > max_len:
        raise ValidationError(field, f"must be at most {max_len} characters, got {len(value)}")
    return value


def uuid_field(value: object, field: str) -> uuid.UUID:
    """The UUID a field names (any spelling Python's UUID reads); ValidationError naming the field
    when it names none."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        raise ValidationError(field, "must be a UUID") from None
