"""Opening the services' stores from the operator's side."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from eventsourcing.persistence import PersistenceError

from services.backbone.settings import SERVICES, Settings
from services.backbone.store import HubApplication, open_store
from services.backbone.stream import application_class


def available_services() -> list[str]:
    found = []
    for service in SERVICES:
        try:
            importlib.import_module(f"services.{service}.application")
        except ModuleNotFoundError:
            continue
        found.append(service)
    return found


@contextmanager
def store(service: str, settings: Settings) -> Iterator[HubApplication]:
    app = open_store(application_class(service), settings)
    try:
        yield app
    finally:
        app.close()


@contextmanager
def existing(service: str, settings: Settings) -> Iterator[HubApplication | None]:
    """The service's store as it is, or None when it has not been made yet: a look creates nothing
    (an operator in the wrong folder, or before the first start, is told so instead of shown an
    empty store that the look itself made)."""
    env = settings.persistence_env(service)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite" and not Path(env["SQLITE_DBNAME"]).exists():
        yield None
        return
    env.update(settings.app_env())
    env["CREATE_TABLE"] = "false"
    try:
        app = application_class(service)(env=env)
    except (PersistenceError, psycopg.Error):  # no database or schema
        yield None
        return
    try:
        app.recorder.max_notification_id()
    except (PersistenceError, psycopg.Error):  # no tables
        app.close()
        yield None
        return
    try:
        yield app
    finally:
        app.close()
