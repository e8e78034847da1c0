"""Opening the services' stores from the operator's side; and the console's, which consumes like a
service (its tracking and parked messages) but publishes nothing."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from eventsourcing.persistence import PersistenceError

from services.backbone.handlers import Handlers, UnitOfWork
from services.backbone.settings import SERVICES, Settings
from services.backbone.store import HubApplication, open_store
from services.backbone.stream import application_class, handlers_of

CONSOLE = "console"  # the web console's read model: a consumer with a store of its own


def available_services() -> list[str]:
    found = []
    for service in SERVICES:
        try:
            importlib.import_module(f"services.{service}.application")
        except ModuleNotFoundError:
            continue
        found.append(service)
    return found


def consuming_services() -> list[str]:
    """Every store that consumes events: the services' and the console's."""
    return [*available_services(), CONSOLE]


def app_class(name: str) -> type[HubApplication]:
    if name == CONSOLE:
        from console.readmodel.store import ConsoleApplication

        return ConsoleApplication
    return application_class(name)


def handlers_for(name: str) -> Handlers | None:
    if name == CONSOLE:
        from console.readmodel.handlers import handlers

        return handlers
    return handlers_of(name)


def work_for(name: str) -> type[UnitOfWork]:
    """How a consumer's handlers write: the services' aggregates, or the console's rows."""
    if name == CONSOLE:
        from console.readmodel.work import ViewWork

        return ViewWork
    return UnitOfWork


@contextmanager
def store(service: str, settings: Settings) -> Iterator[HubApplication]:
    app = open_store(app_class(service), settings)
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
        app = app_class(service)(env=env)
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
