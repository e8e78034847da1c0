"""The other services' stores, opened for reading only (no tables or schemas are created)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

from eventsourcing.persistence import Notification, PersistenceError

from services.backbone.settings import SERVICES, Settings
from services.backbone.store import HubApplication
from services.backbone.stream import application_class

AUDIT = "audit"
# One connection per store, a few more under load: the audit processes read one store at a time.
SMALL_POOL = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "4"}
BEFORE_ALL = -(2**63)  # reads start below any id: an attacker may insert ids under the first (0, negative)


def audited_services() -> list[str]:
    """Every service with a store of its own, except the audit service."""
    found = []
    for service in SERVICES:
        if service == AUDIT:
            continue
        try:
            importlib.import_module(f"services.{service}.application")
        except ModuleNotFoundError:
            continue
        found.append(service)
    return found


def open_readonly(service: str, settings: Settings) -> HubApplication | None:
    """The service's application on its existing store, or None while the store does not exist."""
    env = settings.persistence_env(service)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite" and not Path(env["SQLITE_DBNAME"]).exists():
        return None
    env.update(CREATE_TABLE="false", HUB_RUNTIME_DIR=str(settings.runtime_dir), **SMALL_POOL)
    app = application_class(service)(env=env)
    try:
        app.recorder.max_notification_id()
    except PersistenceError:
        app.close()
        return None
    return app


def notifications(
    app: HubApplication, after: int = BEFORE_ALL, stop: int | None = None, page: int = 1000
) -> Iterator[list[Notification]]:
    """The store's notification log in pages, after a position and up to `stop` (inclusive)."""
    while True:
        batch = app.recorder.select_notifications(
            start=after, limit=page, stop=stop, inclusive_of_start=False
        )
        if not batch:
            return
        yield list(batch)
        after = batch[-1].id
        if len(batch) < page:
            return
