"""The notifications service's settings: infra/notifications.yaml, a few overridable from the environment.

HUB_NOTIFICATIONS_CONFIG      another YAML file of the same shape
HUB_NOTIFY_RETRY_BASE         seconds before the first retry (retry.base_seconds)
HUB_NOTIFY_RETRY_MAX          longest pause between retries (retry.max_seconds)
HUB_NOTIFY_MAX_ATTEMPTS       attempts before a notification is given up (retry.max_attempts)
HUB_NOTIFY_RATE_<CHANNEL>     messages per second of a channel (SMS, DEPARTMENT)
HUB_NOTIFY_BURST_<CHANNEL>    bucket size of a channel
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "infra" / "notifications.yaml"


@dataclass(frozen=True)
class Rate:
    rate: float
    burst: float


@dataclass(frozen=True)
class Retry:
    base_seconds: float = 5.0
    max_seconds: float = 600.0
    max_attempts: int = 8

    def delay(self, attempt: int) -> timedelta:
        """The pause after the `attempt`-th failed attempt (exponential, capped)."""
        return timedelta(seconds=min(self.base_seconds * 2 ** max(attempt - 1, 0), self.max_seconds))


@dataclass(frozen=True)
class Config:
    deadline_days: dict[str, int] = field(default_factory=dict)
    default_deadline_day: int = 15
    publish_day: int = 1
    lagging_rate: float = 0.8
    utc_offset_hours: float = 8.0
    rates: dict[str, Rate] = field(default_factory=dict)
    retry: Retry = field(default_factory=Retry)

    def deadline_day(self, town: str) -> int:
        """The day of the month by which the town's enterprises file (the filing cycle's deadline)."""
        return int(self.deadline_days.get(town, self.default_deadline_day))

    @property
    def zone(self) -> timezone:
        return timezone(timedelta(hours=self.utc_offset_hours))

    def rate(self, channel: str) -> Rate:
        return self.rates.get(channel, Rate(10.0, 10.0))


def load(environ: dict[str, str] | None = None) -> Config:
    """The notifications' settings: infra/notifications.yaml (or HUB_NOTIFICATIONS_CONFIG), each value
    overridden by its HUB_NOTIFY_* variable among `environ` (Settings.hub_env)."""
    env = dict(environ or {})
    path = Path(env.get("HUB_NOTIFICATIONS_CONFIG") or DEFAULT_FILE)
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    deadline = data.get("filing_deadline_day") or {}
    report = data.get("report") or {}
    retry = data.get("retry") or {}
    rates = {}
    for name, spec in (data.get("channels") or {}).items():
        key = name.upper()
        rates[name] = Rate(
            float(env.get(f"HUB_NOTIFY_RATE_{key}", spec.get("rate", 10))),
            float(env.get(f"HUB_NOTIFY_BURST_{key}", spec.get("burst", 10))),
        )
    return Config(
        deadline_days={str(k): int(v) for k, v in (deadline.get("towns") or {}).items()},
        default_deadline_day=int(deadline.get("default", 15)),
        publish_day=int(report.get("publish_day", 1)),
        lagging_rate=float(report.get("lagging_rate", 0.8)),
        utc_offset_hours=float(report.get("utc_offset_hours", 8)),
        rates=rates,
        retry=Retry(
            base_seconds=float(env.get("HUB_NOTIFY_RETRY_BASE", retry.get("base_seconds", 5))),
            max_seconds=float(env.get("HUB_NOTIFY_RETRY_MAX", retry.get("max_seconds", 600))),
            max_attempts=int(env.get("HUB_NOTIFY_MAX_ATTEMPTS", retry.get("max_attempts", 8))),
        ),
    )
