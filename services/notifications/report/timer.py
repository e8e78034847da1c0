"""The monthly timer: from the configured day of a month on, publishes last month's report of every town
that had enterprises then, once (the report's id is the town and the month)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog

from services.backbone.set_aside import set_aside, set_aside_id
from services.backbone.settings import Settings
from services.notifications import clock
from services.notifications.config import Config
from services.notifications.report import publish
from services.notifications.report.domain import report_id
from services.notifications.report.facts import registered_before, towns

log = structlog.get_logger(__name__)
SCAN = "monthly-report"


class ReportTimer:
    def __init__(
        self,
        app: Any,
        settings: Settings,
        config: Config,
        interval: float = 3600.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.app, self.settings, self.config = app, settings, config
        self.interval, self.now = interval, now

    def due(self) -> list[tuple[str, str]]:
        """(town, month) of the reports to publish now."""
        moment = self.now().astimezone(self.config.zone)
        if moment.day < self.config.publish_day:
            return []
        month = clock.previous_month(clock.month_of(moment, self.config.zone))
        cutoff = clock.end_of(month, self.config.zone)
        found = []
        for town, enterprises in towns(self.app).items():
            if self.app.find(report_id(town, month)) is not None:
                continue
            left = self.app.find(set_aside_id(SCAN, f"{town}/{month}"))
            if left is not None and left.status == "set_aside":
                continue  # its reason is shown by hubctl parked list; an operator clears it
            try:
                # a town without enterprises last month reports nothing; its ledgers are read to publish
                if registered_before(self.app, enterprises, cutoff):
                    found.append((town, month))
            except Exception as error:  # noqa: BLE001 - one town never stops the others' reports
                set_aside(self.app, SCAN, f"{town}/{month}", error)
        return found

    def run_once(self) -> list[dict[str, Any]]:
        published = []
        for town, month in self.due():
            try:
                summary = publish.publish(self.app, self.settings, self.config, town, month)
            except Exception as error:  # noqa: BLE001 - one town never stops the others' reports
                set_aside(self.app, SCAN, f"{town}/{month}", error)
                continue
            log.info("monthly_report_published", town=town, month=month, revision=summary["revision"])
            published.append(summary)
        return published

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - the next tick tries again
                log.exception("monthly_report_failed")
            stop.wait(self.interval)
