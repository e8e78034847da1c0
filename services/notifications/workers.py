"""The notifications stream process's own threads (services/backbone/stream.py starts them): the sender,
which sends what the consumers requested, and the monthly report timer.

    HUB_NOTIFY_SENDER_IDLE     seconds the sender waits when nothing was sent (0.5)
    HUB_REPORT_TIMER_SECONDS   seconds between the monthly timer's checks (3600)
"""

from __future__ import annotations

from typing import Any

from services.backbone.settings import Settings
from services.notifications import channels, config
from services.notifications.report.timer import ReportTimer
from services.notifications.sender import Sender


def workers(app: Any, settings: Settings) -> list[object]:
    conf = config.load(settings.hub_env)
    return [
        Sender(app, channels.build(settings), conf, idle=settings.notify_sender_idle),
        ReportTimer(app, settings, conf, interval=settings.report_timer_seconds),
    ]
