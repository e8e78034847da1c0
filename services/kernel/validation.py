"""Validators of values with a rule or a range, shared by every service and edge: credit code, mobile
number, required and bounded text, UUIDs, dates within a window that makes sense for their field, and
the numbers a client gives (sizes, counts, cursors)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

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

# GB 32100-2015 appendix A (with the later A and N): position 1 names the registration authority,
# position 2 a category of organisation that authority registers.
REGISTRATION_AUTHORITIES: dict[str, tuple[str, dict[str, str]]] = {
    "1": ("机构编制", {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"}),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": (
        "司法行政",
        {
            "1": "律师执业机构",
            "2": "公证处",
            "3": "基层法律服务所",
            "4": "司法鉴定机构",
            "5": "仲裁委员会",
            "9": "其他",
        },
    ),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": (
        "旅游",
        {"1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地（大陆）代表机构", "9": "其他"},
    ),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": ("工商", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": ("农业", {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"}),
    "Y": ("其他", {"1": "其他"}),
}

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

    Checks, in order: length; charset (naming the first offending character); the registration authority
    (position 1) and a category it registers (position 2), GB 32100's code tables; administrative
    division code (positions 3-8) all digits; the embedded organisation code's GB 11714 check digit
    (position 17); the overall GB 32100 check digit (position 18).
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
    authority = REGISTRATION_AUTHORITIES.get(normalised[0])
    if authority is None:
        raise ValidationError(
            USCC_FIELD,
            f"position 1 '{normalised[0]}' names no registration authority "
            f"(GB 32100: one of {''.join(REGISTRATION_AUTHORITIES)})",
        )
    if normalised[1] not in authority[1]:
        raise ValidationError(
            USCC_FIELD,
            f"position 2 '{normalised[1]}' is no category of organisation registered by {authority[0]} "
            f"(one of {''.join(authority[1])})",
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


# -- dates ---------------------------------------------------------------------------------------------
# Dates are the enterprise's and the departments' days (Asia/Shanghai). A date a person gives must be one
# that makes sense for its field: something that happened (found, inspected, completed, ordered) lies
# between the hub's earliest records and today; a deadline lies between today and a few years ahead.
# Year 1 and year 9999 are neither, and the latter overflows every date sum a timer makes.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
EARLIEST = date(1990, 1, 1)  # before the hub's subject existed (安全生产法 2002, 双重预防 2016)
DEADLINE_YEARS = 5  # the furthest ahead a deadline may be set


def today_in_shanghai(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(SHANGHAI).date()


@dataclass(frozen=True)
class DateWindow:
    """The days a date field may hold, both ends included."""

    earliest: date
    latest: date

    def check(self, value: object, field: str) -> date:
        """The date a field holds (YYYY-MM-DD), within the window; ValidationError naming the field."""
        text = value.strip() if isinstance(value, str) else ""
        try:
            if not ISO_DATE.fullmatch(text):
                raise ValueError(text)
            day = date.fromisoformat(text)
        except ValueError:
            raise ValidationError(field, "must be a date YYYY-MM-DD") from None
        if not self.earliest <= day <= self.latest:
            raise ValidationError(
                field, f"must be between {self.earliest.isoformat()} and {self.latest.isoformat()}"
            )
        return day


def happened(today: date | None = None) -> DateWindow:
    """A day something happened: not before EARLIEST, not after today (a day's grace for clocks)."""
    return DateWindow(EARLIEST, (today or today_in_shanghai()) + timedelta(days=1))


def due(today: date | None = None) -> DateWindow:
    """A deadline: from today to DEADLINE_YEARS ahead."""
    day = today or today_in_shanghai()
    try:
        latest = day.replace(year=day.year + DEADLINE_YEARS)
    except ValueError:  # 29 February
        latest = day.replace(year=day.year + DEADLINE_YEARS, day=28)
    return DateWindow(day, latest)


def scheduled(today: date | None = None) -> DateWindow:
    """A date of record that may lie before or after today (a campaign's deadline, a reporting month):
    from EARLIEST to DEADLINE_YEARS ahead."""
    return DateWindow(EARLIEST, due(today).latest)


# -- numbers from a client: sizes, counts, cursors -----------------------------------------------------
INT64_MAX = 2**63 - 1


def bounded_int(value: object, field: str, low: int, high: int) -> int:
    """An integer a client gave (as a number or as digits), between low and high; ValidationError
    naming the field otherwise. Digits are ASCII only ("²" and "٣" are digits to str.isdigit)."""
    if isinstance(value, bool):
        raise ValidationError(field, f"must be a whole number between {low} and {high}")
    if isinstance(value, int):
        number = value
    else:
        text = value.strip() if isinstance(value, str) else ""
        body = text[1:] if text.startswith("-") else text
        if not (body.isascii() and body.isdigit()) or len(body) > len(str(max(abs(low), abs(high)))) + 1:
            raise ValidationError(field, f"must be a whole number between {low} and {high}")
        number = int(text)
    if not low <= number <= high:
        raise ValidationError(field, f"must be between {low} and {high}")
    return number


def page_size(value: int, field: str = "page_size", default: int = 100, maximum: int = 500) -> int:
    """A page size a client asked for: 0 means the default; negative or above `maximum` is refused."""
    return default if value == 0 else bounded_int(value, field, 1, maximum)
