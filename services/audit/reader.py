"""What auditors read: the audited stores and the audit store, opened read-only as they appear."""

from __future__ import annotations

import threading
from collections.abc import Callable

from services.audit.application import AuditApplication
from services.audit.findings import Finding
from services.audit.keys import audit_public_key, link_key
from services.audit.scan import worker_pool
from services.audit.stores import AUDIT, audited_services, open_readonly
from services.audit.verify import IN_PROCESS_BELOW, StoreReport, verify_store
from services.backbone.settings import Settings
from services.backbone.store import HubApplication
from services.kernel.tree_heads import Anchor

Progress = Callable[[str, int], None]


class AuditReader:
    """Holds the stores open; a store a service creates later is picked up on the next call."""

    def __init__(self, settings: Settings, audit: AuditApplication | None = None) -> None:
        self.settings = settings
        self.public_key = audit_public_key(settings)
        self.link_key = link_key(settings)
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
        self,
        only: list[str] | None = None,
        workers: int = 1,
        progress: Progress | None = None,
        anchors: list[Anchor] | None = None,
    ) -> list[StoreReport]:
        """Every audited store against its links, the audit's records and heads, and the anchors."""
        audit, reports, anchors = self.audit, [], anchors or []
        sources = self.sources(only)
        pool = None
        try:
            for store in only or audited_services():
                source = sources.get(store)
                if source is None:
                    reports += self._gone(store, audit, anchors)
                    continue
                if (
                    pool is None
                    and workers > 1
                    and (source.recorder.max_notification_id() or 0) >= IN_PROCESS_BELOW
                ):
                    pool = worker_pool(self.settings, workers)
                report = verify_store(
                    audit,
                    source,
                    store,
                    self.public_key,
                    self.link_key,
                    anchors,
                    pool=pool,
                    progress=progress,
                )
                reports.append(report)
        finally:
            if pool is not None:
                pool.shutdown()
        return reports

    def _gone(self, store: str, audit: AuditApplication | None, anchors: list[Anchor]) -> list[StoreReport]:
        """A store that no longer exists, though heads (the audit's, or anchors) say it had events."""
        sizes = [h.head.tree_size for h in audit.heads(store)] if audit is not None else []
        sizes += [a.head.tree_size for a in anchors if a.head.store == store and a.head.valid()]
        if not any(sizes):
            return []
        gone = Finding(
            "truncated", store, 0, detail=f"the whole store is gone; heads say it held {max(sizes)} events"
        )
        return [StoreReport(store, findings=[gone])]

    def close(self) -> None:
        with self._lock:
            for app in self._opened.values():
                app.close()
            self._opened.clear()
