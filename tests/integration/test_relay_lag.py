"""The relay reports its lag (store head − its position) to Prometheus, page by page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from services.backbone.relay import Relay
from services.backbone.settings import Settings
from services.backbone.store import open_store
from services.registry.application import RegistryApplication
from services.registry.domain import Enterprise
from tests.conftest import cleanup, make_settings
from tests.factories import enterprise_kwargs

pytestmark = pytest.mark.integration


@pytest.fixture
def sqlite_settings(infrastructure: dict[str, str], tmp_path: Path) -> Iterator[Settings]:
    value = make_settings(tmp_path, "sqlite")
    yield value
    cleanup(value)


def lag(service: str) -> float | None:
    return REGISTRY.get_sample_value("hub_relay_lag", {"service": service})


def test_relay_lag_falls_page_by_page_to_zero(sqlite_settings: Settings) -> None:
    registry = open_store(RegistryApplication, sqlite_settings)
    registry.save(*[Enterprise(**enterprise_kwargs(i)) for i in range(25)])
    head = registry.recorder.max_notification_id()
    assert head is not None and head >= 25
    relay = Relay(registry, sqlite_settings, subscribers=("filing",), page_size=10)
    try:
        relay.relay_page()
        assert lag("registry") == head - 10
        relay.relay_page()
        assert lag("registry") == max(head - 20, 0)
        while relay.relay_page() or not relay.caught_up:
            pass
        assert lag("registry") == 0
    finally:
        relay.close()
        registry.close()
