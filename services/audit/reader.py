"""What auditors read: the audited stores and the audit store, opened read-only as they appear."""

from __future__ import annotations

import threading
from collections.abc import Callable

from services.audit.application import AuditApplication
from services.audit.keys import audit_public_key
from services.audit.ranges import Finding
from services.audit.stores import AUDIT, audited_services, open_readonly
from services.audit.verify import StoreReport, verify_store
from services.backbone.settings import Settings
from services.backbone.store import HubApplication

Progress = Callable[[str, int], None]


class AuditReader:
    """Holds the stores open; a store a service creates later is picked up on the next call."""

    def __init__(self, settings: Settings, audit: AuditApplication | None = None) -> None:
        self.settings = settings
        self.public_key = audit_public_key(settings.runtime_dir)
        self._opened: dict[str, HubApplication] = {}
        if audit is not None:
            self._opened[AUDIT] = audit
        self._lock = threading.Lock()

    def _open(self, service: str) -> HubApplication | None:
        with self._lock:
            if service not in self._opened:
                app = open_readonly(service, self.settings)
                if app is None:
                    return None
                self._opened[service] = app
            return self._opened[service]

    @property
    def audit(self) -> AuditApplication | None:
        app = self._open(AUDIT)
        return app if isinstance(app, AuditApplication) else None

    def sources(self, only: list[str] | None = None) -> dict[str, HubApplication]:
        found = {}
        for service in only or audited_services():
            app = self._open(service)
            if app is not None:
                found[service] = app
        return found

    def verify(
        self, only: list[str] | None = None, workers: int = 1, progress: Progress | None = None
    ) -> list[StoreReport]:
        """Every audited store against its recorded chain and checkpoints."""
        audit, reports = self.audit, []
        sources = self.sources(only)
        for store in only or audited_services():
            source = sources.get(store)
            if source is None:
                recorded = audit.segments(store) if audit is not None else []
                if recorded:
                    gone = Finding("removed", store, recorded[0].first_id, detail="the whole store is gone")
                    chained = sum(s.count for s in recorded)
                    reports.append(StoreReport(store, chained=chained, findings=[gone]))
                continue
            if audit is None:
                reports.append(StoreReport(store, store_head=source.recorder.max_notification_id() or 0))
                continue
            reports.append(
                verify_store(
                    audit,
                    source,
                    store,
                    self.public_key,
                    settings=self.settings,
                    workers=workers,
                    progress=progress,
                )
            )
        return reports

    def close(self) -> None:
        with self._lock:
            for app in self._opened.values():
                app.close()
            self._opened.clear()
