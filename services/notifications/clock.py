"""Times as the notifications service stores them (UTC ISO 8601, microseconds, comparable as text),
and the months of the monthly report (in the configured offset, China Standard Time by default)."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from services.backbone.errors import ValidationError
from services.kernel.validation import scheduled

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def utc(value: str | datetime) -> str:
    """One text form for every instant, so that comparing the texts compares the instants."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def now() -> str:
    return utc(datetime.now(UTC))


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def parse_month(month: str) -> tuple[int, int]:
    found = MONTH.fullmatch(month) if isinstance(month, str) else None
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise ValidationError("month", "must be YYYY-MM")
    scheduled().check(f"{month}-01", "month")  # a month of record, not year 1 or 9999
    return int(found.group(1)), int(found.group(2))


def previous_month(month: str) -> str:
    year, number = parse_month(month)
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def month_of(moment: datetime, zone: tzinfo) -> str:
    local = moment.astimezone(zone)
    return f"{local.year}-{local.month:02d}"


def start_of(month: str, zone: tzinfo) -> str:
    """The first instant of the month, local midnight, as stored text."""
    year, number = parse_month(month)
    return utc(datetime.combine(date(year, number, 1), time(), tzinfo=zone))


def end_of(month: str, zone: tzinfo) -> str:
    """The first instant after the month (the report's cutoff)."""
    year, number = parse_month(month)
    following = date(year + 1, 1, 1) if number == 12 else date(year, number + 1, 1)
    return utc(datetime.combine(following, time(), tzinfo=zone))


def deadline_day(month: str, day: int) -> date:
    """The month's `day`, clamped to the month (the 31st of April is the 30th)."""
    year, number = parse_month(month)
    return date(year, number, min(max(day, 1), calendar.monthrange(year, number)[1]))


def end_of_day(day: date, zone: tzinfo) -> str:
    """The first instant after the local day, as stored text."""
    return utc(datetime.combine(day + timedelta(days=1), time(), tzinfo=zone))
