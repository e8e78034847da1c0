"""A consumer reads what a page's handlers declared they read in one go: a page of risk points from
many enterprises reads their registers together (get_many), not one aggregate at a time, and applies
the same changes as before."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from services.backbone import view_cache
from services.backbone.consumer import Delivery, TrackedConsumer
from services.backbone.relay import envelopes_after
from services.backbone.store import open_store
from services.backbone.view_cache import ViewCache
from services.dangers.application import DangersApplication
from services.dangers.handlers import handlers as dangers_handlers
from services.dangers.records import COVERAGE_ID, record_id
from services.filing import riskpoint_views
from services.filing.application import FilingApplication
from services.filing.handlers import handlers
from services.filing.riskpoint_views import register_id, riskpoint_register
from services.registry.application import RegistryApplication
from services.riskpoints.application import RiskPointsApplication
from tests.conftest import make_settings
from tests.factories import enterprise_fields
from tests.notifications_data import POPO
from tests.riskpoint_factories import item

pytestmark = pytest.mark.integration

ENTERPRISES = [str(uuid.uuid4()) for _ in range(6)]


def imported(riskpoints: RiskPointsApplication, first: int, count: int) -> None:
    for enterprise in ENTERPRISES:
        riskpoints.upsert_batch(enterprise, [item(i) for i in range(first, first + count)])


@pytest.mark.parametrize("kept", [False, True], ids=["not kept", "kept from the last page"])
def test_a_page_reads_its_enterprises_registers_together(
    kept: bool, tmp_path: Path, infrastructure: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Registers the process does not keep are read together, none one by one; those its view cache
    keeps from the last page are checked in the same read, not read whole again."""
    settings = make_settings(tmp_path, "postgres")
    filing = open_store(FilingApplication, settings)
    riskpoints = RiskPointsApplication(env=POPO)
    consumer = TrackedConsumer(filing, handlers, settings, "riskpoints")
    cache = ViewCache(is_clean=lambda register: not register._staged)
    monkeypatch.setattr(riskpoint_views, "_kept", cache)
    try:
        imported(riskpoints, 0, 3)
        envelopes, position = envelopes_after(riskpoints, 0, 10_000)
        consumer._record([Delivery(n, e) for n, e in enumerate(envelopes)])  # the registers now exist

        imported(riskpoints, 3, 2)  # a second page: two more points for each enterprise
        if not kept:  # as a province's enterprises are to the process: many more than it keeps
            cache._kept.clear()
        envelopes, _ = envelopes_after(riskpoints, position, 10_000)
        assert len({e.enterprise_id for e in envelopes}) == len(ENTERPRISES)
        single: list[Any] = []
        together: list[Any] = []
        repository_get, get_many = filing.repository.get, filing.get_many
        monkeypatch.setattr(
            filing.repository, "get", lambda i, *a, **k: single.append(i) or repository_get(i, *a, **k)
        )

        checked: list[Any] = []

        def counted_many(ids: Any, kept: Any = None) -> Any:
            ids = list(ids)
            together.extend(ids)
            checked.extend(kept or {})
            return get_many(ids, kept=kept)

        monkeypatch.setattr(filing, "get_many", counted_many)
        consumer._record([Delivery(n, e) for n, e in enumerate(envelopes)])

        registers = {register_id(e) for e in ENTERPRISES}
        assert not registers & set(single)  # never one by one
        assert registers <= set(together)  # together
        assert (registers <= set(checked)) is kept  # those kept only checked (not read whole)
        for enterprise in ENTERPRISES:
            assert len(riskpoint_register(filing, enterprise)) == 5
    finally:
        filing.close()


def test_a_page_of_registrations_reads_the_dangers_records_together(
    tmp_path: Path, infrastructure: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dangers service follows registrations into its enterprise records: a page of them reads the
    records in one go (one query), none one by one."""
    settings = make_settings(tmp_path, "postgres")
    dangers = open_store(DangersApplication, settings)
    registry = RegistryApplication(env={**POPO, "HUB_RUNTIME_DIR": str(tmp_path)})
    consumer = TrackedConsumer(dangers, dangers_handlers, settings, "registry")
    try:
        answers = [registry.register(enterprise_fields(n)) for n in range(5)]
        envelopes, _ = envelopes_after(registry, 0, 10_000)
        single: list[Any] = []
        repository_get = dangers.repository.get
        monkeypatch.setattr(
            dangers.repository, "get", lambda i, *a, **k: single.append(i) or repository_get(i, *a, **k)
        )
        consumer._record([Delivery(n, e) for n, e in enumerate(envelopes)])
        records = {record_id(a["enterprise_id"]) for a in answers}
        assert not records & set(single)  # never one by one
        assert all(dangers.find(r) is not None for r in records)
    finally:
        dangers.close()


def test_a_kept_view_is_checked_with_the_page_s_reads_and_caught_up_when_written_elsewhere(
    tmp_path: Path, infrastructure: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The coverage index a dangers consumer keeps between pages is checked in the page's one read (no
    query of its own); when another process wrote it meanwhile, the page builds on that write; when
    the page that changed it was not saved, the next page reads it afresh."""
    settings = make_settings(tmp_path, "postgres")
    dangers, other = open_store(DangersApplication, settings), open_store(DangersApplication, settings)
    registry = RegistryApplication(env={**POPO, "HUB_RUNTIME_DIR": str(tmp_path)})
    consumer = TrackedConsumer(dangers, dangers_handlers, settings, "registry")
    position = 0

    def next_page(first: int) -> list[str]:
        nonlocal position
        answers = [registry.register(enterprise_fields(n))["enterprise_id"] for n in range(first, first + 3)]
        envelopes, position = envelopes_after(registry, position, 10_000)
        consumer._record([Delivery(n, e) for n, e in enumerate(envelopes)])
        return answers

    try:
        first = next_page(0)
        checks: list[Any] = []
        single: list[Any] = []
        monkeypatch.setattr(view_cache, "is_current", lambda *a: checks.append(a) or True)
        repository_get = dangers.repository.get
        monkeypatch.setattr(
            dangers.repository, "get", lambda i, *a, **k: single.append(i) or repository_get(i, *a, **k)
        )
        second = next_page(10)
        assert checks == [] and single == []  # checked in the page's read
        coverage = dangers.find(COVERAGE_ID)
        assert set(first + second) <= set(coverage.uninspected)

        theirs = other.find(COVERAGE_ID)  # another process of the service writes it meanwhile
        theirs._listed(enterprise_id="written-elsewhere", entry={"name": "外厂", "town": "张山子镇"})
        other.save(theirs)
        third = next_page(20)
        coverage = dangers.find(COVERAGE_ID)
        assert "written-elsewhere" in coverage.uninspected
        assert set(first + second + third) <= set(coverage.uninspected)

        record = consumer.app.record
        monkeypatch.setattr(consumer.app, "record", lambda *_: (_ for _ in ()).throw(RuntimeError("cut")))
        with pytest.raises(RuntimeError):
            next_page(30)  # changed the kept index in memory; nothing saved
        monkeypatch.setattr(consumer.app, "record", record)
        fourth = next_page(40)
        coverage = dangers.find(COVERAGE_ID)
        assert set(first + second + third + fourth) <= set(coverage.uninspected)
        assert coverage.version == other.find(COVERAGE_ID).version
    finally:
        dangers.close()
        other.close()
