"""nameko dependency: one eventsourcing application per service container."""

from __future__ import annotations

from typing import Any

from nameko.extensions import DependencyProvider
from nameko.timer import Timer

from services.backbone import consistency, correlation, metrics, nameko_replies  # noqa: F401 - replies wait out a broker restart
from services.backbone import logging as hub_logging
from services.backbone.process import begin
from services.backbone.settings import Settings
from services.backbone.store import HubApplication, open_store

CORRELATION_KEY = "correlation_id"


class EventStore(DependencyProvider):  # type: ignore[misc]
    """Injects the service's application; binds the caller's correlation id for each worker."""

    def __init__(self, app_class: type[HubApplication]) -> None:
        self.app_class = app_class
        self.app: HubApplication | None = None
        self._tokens: dict[int, Any] = {}

    def setup(self) -> None:
        # Connections are made here, not at import time.
        settings = Settings.from_env()
        begin(settings)
        hub_logging.configure(self.container.service_name, settings.log_format, settings.log_level)
        metrics.serve(settings)  # once per process, however many services it runs
        self.app = open_store(self.app_class, settings)

    def stop(self) -> None:
        if self.app is not None:
            self.app.close()

    def get_dependency(self, worker_ctx: Any) -> HubApplication:
        assert self.app is not None
        return self.app

    def worker_setup(self, worker_ctx: Any) -> None:
        cid = worker_ctx.data.get(CORRELATION_KEY) or correlation.new()
        self._tokens[id(worker_ctx)] = (
            correlation._current.set(cid),
            consistency.WRITTEN.set({}),  # what this call stores, for its answer (HubRpc)
        )

    def worker_teardown(self, worker_ctx: Any) -> None:
        tokens = self._tokens.pop(id(worker_ctx), None)
        if tokens is not None:
            try:
                correlation._current.reset(tokens[0])
                consistency.WRITTEN.reset(tokens[1])
            except ValueError:
                pass  # set in another context (greenlet); nothing to restore


class HubSettings(DependencyProvider):  # type: ignore[misc]
    """Injects the hub's settings, read when the service starts."""

    def setup(self) -> None:
        self.settings = Settings.from_env()

    def get_dependency(self, worker_ctx: Any) -> Settings:
        return self.settings


class SettingsTimer(Timer):  # type: ignore[misc]
    """nameko's timer, its interval taken from the hub's settings when the service starts (a
    decorator's argument would be read at import time)."""

    def __init__(self, setting: str, **kwargs: Any) -> None:
        super().__init__(interval=0, **kwargs)
        self.setting = setting

    def setup(self) -> None:
        self.interval = float(getattr(Settings.from_env(), self.setting))
        super().setup()


settings_timer = SettingsTimer.decorator
