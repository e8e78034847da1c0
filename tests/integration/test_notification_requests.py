"""A cause's notifications: whether each was requested before is read for all its recipients at once,
on PostgreSQL, and a cause applied again requests nothing twice."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from services.backbone.handlers import UnitOfWork
from services.backbone.store import Processing, open_store
from services.notifications import requests
from services.notifications.application import NotificationsApplication
from tests.conftest import make_settings

pytestmark = pytest.mark.integration


ENTERPRISE = str(uuid.UUID(int=7))


@dataclass(frozen=True)
class Cause:
    event_id: str
    type: str = "FilingDelivery.Recorded"
    upstream: str = "filing"
    occurred_at: str = "2026-11-29T08:00:00+00:00"
    enterprise_id: str = ENTERPRISE


PEOPLE = [
    {"kind": "person", "name": f"联系人{n}", "address": f"1380000000{n}", "enterprise_id": ENTERPRISE}
    for n in range(3)
]


def test_a_cause_s_recipients_are_looked_up_together_and_requested_once(
    tmp_path: Path, infrastructure: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_store(NotificationsApplication, make_settings(tmp_path, "postgres"))
    single: list[Any] = []
    get = app.repository.get
    monkeypatch.setattr(app.repository, "get", lambda i, *a, **k: single.append(i) or get(i, *a, **k))
    cause = Cause(event_id=str(uuid.uuid4()))
    try:
        uow = UnitOfWork(app)
        made = requests.request(uow, cause, "filing_rejected", PEOPLE, "退回")
        assert len(made) == 3
        processing = Processing()
        uow.collect(processing)
        app.record(processing)

        again = UnitOfWork(app)  # the same cause applied again (a redelivered page)
        assert requests.request(again, cause, "filing_rejected", PEOPLE, "退回") == []
        assert single == []  # never one recipient at a time
    finally:
        app.close()
