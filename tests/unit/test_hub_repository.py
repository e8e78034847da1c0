"""Aggregates replayed by the hub's projector are those eventsourcing's own projector makes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eventsourcing.application import project_aggregate

from services.backbone.store import HubRepository, open_store, snapshot_interval
from services.registry.application import RegistryApplication
from services.registry.index import EnterpriseIndex
from tests.conftest import make_settings


def test_an_index_past_its_snapshot_loads_the_same_either_way(tmp_path: Path) -> None:
    app = open_store(RegistryApplication, make_settings(tmp_path, "sqlite"))
    assert isinstance(app.repository, HubRepository)
    index = EnterpriseIndex(kind="department", value="AJ")
    app.save(index)
    for n in range(130):  # a snapshot at version 100, thirty events after it
        index.change(added={f"e{n}"}, removed={f"e{n - 7}"} if n % 3 == 0 else set())
        app.save(index)
    ours = app.repository.get(index.id)
    theirs = app.repository.get(index.id, projector_func=project_aggregate)
    assert ours.version == theirs.version == index.version == 131
    assert ours.members == theirs.members == index.members
    app.close()


def test_the_snapshot_interval_doubles_as_a_view_grows() -> None:
    index = EnterpriseIndex(kind="department", value="AJ")
    assert snapshot_interval(100, index) == 100
    index.members = dict.fromkeys(f"e{n}" for n in range(2_000))  # 100 × 20 entries: still 100
    assert snapshot_interval(100, index) == 100
    index.members = dict.fromkeys(f"e{n}" for n in range(5_000))
    assert snapshot_interval(100, index) == 400


def snapshot_versions(app: RegistryApplication, index: EnterpriseIndex) -> list[int]:
    assert app.snapshots is not None
    return [s.originator_version for s in app.snapshots.get(index.id)]


def test_a_growing_view_is_snapshotted_ever_less_often_and_loads_as_saved(tmp_path: Path) -> None:
    app = open_store(RegistryApplication, make_settings(tmp_path, "sqlite"))
    index = EnterpriseIndex(kind="department", value="AJ")
    app.save(index)
    for n in range(1_200):  # five members an event: 6,000 by the end
        index.change(added={f"e{n}-{k}" for k in range(5)}, removed=set())
        app.save(index)
    # every 100 events up to 2,000 members (100 × 20 entries), every 200 up to 4,000, then every 400:
    # seven snapshots where a fixed interval took twelve, and the larger the view, the fewer
    assert snapshot_versions(app, index) == [100, 200, 300, 400, 600, 800, 1_200]
    loaded = app.repository.get(index.id)
    replayed = app.repository.get(index.id, projector_func=project_aggregate)
    assert loaded.version == replayed.version == index.version == 1_201
    assert loaded.members == replayed.members == index.members
    # the snapshot holds what the store replays to at its version
    at_800 = app.repository.get(index.id, version=800, projector_func=project_aggregate)
    assert app.snapshots is not None
    [snapshot] = [s for s in app.snapshots.get(index.id) if s.originator_version == 800]
    assert snapshot.state["members"] == at_800.members
    app.close()


def test_a_snapshot_due_inside_a_page_is_taken_from_the_saved_view_not_replayed(tmp_path: Path) -> None:
    """A consumer saves a page of events of one view at once. Replaying the store to the version due
    decoded the view's previous snapshot whole (a province's directory: ~2 KB allocated per name), and
    the allocator kept that as the process's size: nothing is read to take a snapshot."""
    app = open_store(RegistryApplication, make_settings(tmp_path, "sqlite"))
    index = EnterpriseIndex(kind="department", value="AJ")
    decoded = []
    to_domain_event = app.mapper.to_domain_event

    def counted(stored: Any) -> Any:
        decoded.append(stored.originator_version)
        return to_domain_event(stored)

    app.mapper.to_domain_event = counted  # type: ignore[method-assign]
    app.save(index)
    for page in range(10):  # pages of 30 events: versions 2-31, 32-61, …
        for k in range(30):
            index.change(added={f"e{page}-{k}"}, removed=set())
        app.save(index)
    assert decoded == []
    # 100 falls in the page 92-121 and 200 in 182-211, 300 in 272-301: each taken at its page's end
    assert snapshot_versions(app, index) == [121, 211, 301]
    app.mapper.to_domain_event = to_domain_event  # type: ignore[method-assign]
    assert app.repository.get(index.id).members == index.members
    replayed = app.repository.get(index.id, version=211, projector_func=project_aggregate)
    assert app.snapshots is not None
    [snapshot] = [s for s in app.snapshots.get(index.id) if s.originator_version == 211]
    assert snapshot.state["members"] == replayed.members
    app.close()
