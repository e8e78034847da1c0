"""Dates and deadlines as the town keeps them: calendar days in Asia/Shanghai (UTC+8, no DST)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.backbone.errors import ValidationError

SHANGHAI = ZoneInfo("Asia/Shanghai")


def today(now: datetime) -> date:
    """The calendar day in Shanghai at the instant `now`."""
    return now.astimezone(SHANGHAI).date()


def due_by(deadline: str) -> datetime:
    """The instant a deadline day ends: midnight after it, Shanghai time (as UTC)."""
    day = date.fromisoformat(deadline) + timedelta(days=1)
    return datetime.combine(day, time(0), SHANGHAI).astimezone(UTC)


def is_past(deadline: str, now: datetime) -> bool:
    """True once the whole deadline day has passed in Shanghai."""
    return now >= due_by(deadline)


def instant(value: str, field: str = "now") -> datetime:
    """An ISO 8601 instant with its UTC offset (a bare local time would be ambiguous)."""
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(field, "must be an ISO 8601 date-time with a UTC offset") from None
    if parsed.tzinfo is None:
        raise ValidationError(field, "must carry a UTC offset, e.g. 2030-01-02T08:00:00+08:00")
    return parsed.astimezone(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()
