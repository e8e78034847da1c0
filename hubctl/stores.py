"""Opening the services' stores from the operator's side."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager

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
