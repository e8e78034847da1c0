"""The notifications nameko service: notifications and the monthly report, for operators and the gateway."""

from __future__ import annotations

from typing import Any

import structlog

from services.backbone.nameko_store import EventStore, HubSettings
from services.backbone.rpc import rpc
from services.backbone.settings import Settings
from services.notifications import config
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
