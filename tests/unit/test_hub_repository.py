"""Aggregates replayed by the hub's projector are those eventsourcing's own projector makes."""

from __future__ import annotations

from pathlib import Path

from eventsourcing.application import project_aggregate

from services.backbone.store import HubRepository, open_store
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
