"""Finding the registered enterprise a free-text adjacent unit names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.backbone.handlers import UnitOfWork
from services.backbone.relay import envelopes_after
from services.backbone.store import open_store
from services.notifications import requests
from services.notifications.application import NotificationsApplication
from services.notifications.handlers import handlers
from services.notifications.views import DIRECTORY_ID, Directory
from services.registry.application import RegistryApplication
from tests.conftest import make_settings
from tests.notifications_data import register, registry_with_departments


def directory(*names: tuple[str, str]) -> Directory:
    d = Directory()
    for eid, name in names:
        d.record_enterprise(enterprise_id=eid, name=name, town="张山子镇", old_town="")
    return d


def test_the_longest_name_in_the_text_wins_and_the_enterprise_itself_is_left_out() -> None:
    d = directory(("a", "鲁南化肥厂"), ("b", "鲁南化肥厂二分厂"), ("c", "峄城区石料厂"))
    assert d.enterprise_named_in("东邻：鲁南化肥厂二分厂仓库") == "b"
    assert d.enterprise_named_in("东邻：鲁南化肥厂") == "a"
    assert d.enterprise_named_in("东邻：鲁南化肥厂", besides="a") is None
    assert d.enterprise_named_in("西邻：农田") is None


def test_an_enterprise_registered_after_a_lookup_is_found_by_the_next() -> None:
    d = directory(("a", "鲁南化肥厂"))
    assert d.enterprise_named_in("北邻张山子镇煤矿") is None
    d.record_enterprise(enterprise_id="d", name="张山子镇煤矿", town="张山子镇", old_town="")
    assert d.enterprise_named_in("北邻张山子镇煤矿") == "d"


def test_a_directory_of_a_province_finds_a_name_among_a_hundred_thousand() -> None:
    d = directory(*((f"e{n}", f"第{n}号化工企业有限公司") for n in range(100_000)))
    assert d.enterprise_named_in("南邻：第73512号化工企业有限公司东厂区") == "e73512"
    assert d.enterprise_named_in("南邻：第号化工企业") is None


def test_the_consumer_keeps_the_directory_between_pages_instead_of_replaying_it(tmp_path: Path) -> None:
    """A province's directory is large: each page of the notifications consumer would decode it."""
    registry = registry_with_departments(open_store(RegistryApplication, make_settings(tmp_path, "sqlite")))
    for n in range(1, 5):
        register(registry, n)
    envelopes, _ = envelopes_after(registry, 0, 1000)
    app = open_store(NotificationsApplication, make_settings(tmp_path, "sqlite"))
    stored_get, loads = app.repository.get, []

    def counted(aggregate_id: Any, **kwargs: Any) -> Any:
        loads.append(aggregate_id)
        return stored_get(aggregate_id, **kwargs)

    app.repository.get = counted  # type: ignore[method-assign]
    last = max(i for i, e in enumerate(envelopes) if e.type == "Enterprise.Registered")
    saved, unsaved = envelopes[:last], envelopes[last]
    for envelope in saved:  # a page per message, each saved
        uow = UnitOfWork(app)
        handlers.apply(uow, envelope)
        app.save(*uow._aggregates.values())
    assert loads.count(DIRECTORY_ID) <= 1
    assert len(requests.directory(UnitOfWork(app)).names) == 3
    failed = UnitOfWork(app)  # a page whose save never happens leaves nothing in the kept directory
    handlers.apply(failed, unsaved)
    assert len(requests.directory(failed).names) == 4
    assert len(requests.directory(UnitOfWork(app)).names) == 3
    assert requests.directory(UnitOfWork(app)).names == stored_get(DIRECTORY_ID).names
    app.close()
    registry.close()
