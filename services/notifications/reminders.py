"""Reminding the enterprises that have not filed in a town's campaign (the town office asks, from the
console): an SMS to each one's legal representative and contacts, once per enterprise and day."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from eventsourcing.application import ProcessingEvent

from services.backbone.conflicts import retried
from services.backbone.errors import ValidationError
from services.backbone.handlers import UnitOfWork
from services.backbone.store import Processing
from services.notifications import clock, requests, templates

REMINDERS = uuid.UUID("5d0c3b7e-8a41-4f6c-9e2d-1b7a6c3f9e04")
CAUSE_TYPE = "FilingCampaign.Reminder"
CHINA = timezone(timedelta(hours=8))
MAX_ENTERPRISES = 100_000


def deadline_zh(deadline: str) -> str:
    """'2016-09-15' → '2016年9月15日'."""
    try:
        year, month, day = (int(part) for part in deadline.split("-"))
    except ValueError:
        raise ValidationError("deadline", "must be a date, YYYY-MM-DD") from None
    return f"{year}年{month}月{day}日"


@retried
def remind(app: Any, town: str, campaign: str, deadline: str, enterprise_ids: list[str]) -> dict[str, Any]:
    """One reminder per enterprise and day (a second click the same day sends nothing more)."""
    if not town or not campaign:
        raise ValidationError("campaign", "must not be empty")
    if len(enterprise_ids) > MAX_ENTERPRISES:
        raise ValidationError("enterprise_ids", f"at most {MAX_ENTERPRISES}")
    due = deadline_zh(deadline)
    today = datetime.now(CHINA).date().isoformat()
    at = clock.now()
    uow = UnitOfWork(app)
    sent = 0
    for enterprise_id in dict.fromkeys(str(e) for e in enterprise_ids):
        cause = requests.OwnCause(
            event_id=str(uuid.uuid5(REMINDERS, f"{town}/{campaign}/{today}/{enterprise_id}")),
            type=CAUSE_TYPE,
            occurred_at=at,
            enterprise_id=enterprise_id,
        )
        name = requests.enterprise_name(uow, enterprise_id)
        text = templates.render("campaign_reminder", enterprise=name, campaign=campaign, deadline=due)
        if requests.request(uow, cause, "campaign_reminder", requests.people_of(uow, enterprise_id), text):
            sent += 1
    processing: ProcessingEvent[Any] = Processing()
    uow.collect(processing)
    app.record(processing)
    return {"enterprises": sent, "at": datetime.now(UTC).isoformat()}
