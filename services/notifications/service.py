"""The notifications nameko service: notifications and the monthly report, for operators and the gateway."""

from __future__ import annotations

import base64
from typing import Any

import structlog

from services.backbone.nameko_store import EventStore, HubSettings
from services.backbone.rpc import rpc
from services.backbone.settings import Settings
from services.notifications import config, reminders
from services.notifications.application import NotificationsApplication
from services.notifications.report import publish

log = structlog.get_logger(__name__)


class NotificationsService:
    name = "notifications"

    app: NotificationsApplication = EventStore(NotificationsApplication)
    settings: Settings = HubSettings()

    @rpc
    def notification(self, notification_id: str) -> dict[str, Any]:
        return self.app.notification(notification_id)

    @rpc
    def notifications(self, state: str = "", kind: str = "", limit: int = 1000) -> list[dict[str, Any]]:
        return self.app.notifications(state, kind, limit)

    @rpc
    def monthly_figures(self, town: str, month: str) -> dict[str, Any]:
        """The figures the month's report would show now (nothing is published)."""
        return publish.build(self.app, config.load(self.settings.hub_env), town, month)

    @rpc
    def publish_monthly_report(self, town: str, month: str) -> dict[str, Any]:
        summary = publish.publish(self.app, self.settings, config.load(self.settings.hub_env), town, month)
        log.info("monthly_report_published", town=town, month=month, revision=summary["revision"])
        return {k: v for k, v in summary.items() if k != "report"}

    @rpc
    def monthly_report_file(self, town: str, month: str, suffix: str, content: bool = True) -> dict[str, Any]:
        """The published report's HTML or PDF (base64) with its revision; {} before it is published.
        Without `content`: whether it is published, its revision and when (the file is not sent)."""
        found = publish.stored_file(self.app, town, month, suffix)
        if found:
            data = found.pop("content")
            if content:
                found["content"] = base64.b64encode(data).decode("ascii")
        return found

    @rpc
    def remind_lagging(
        self, town: str, campaign: str, deadline: str, enterprise_ids: list[str]
    ) -> dict[str, Any]:
        """SMS reminders to the enterprises of a campaign that have not filed (once per enterprise a day)."""
        answer = reminders.remind(self.app, town, campaign, deadline, enterprise_ids)
        log.info("campaign_reminders", town=town, campaign=campaign, enterprises=answer["enterprises"])
        return answer
