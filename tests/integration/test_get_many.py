"""Many aggregates read together (a town's views for its queries) are the aggregates read one by one:
from a snapshot and the events after it, from events alone, or not at all when never saved."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from services.backbone import store
from services.backbone.store import open_store
from services.registry.application import RegistryApplication
from services.registry.index import EnterpriseIndex
from tests.conftest import make_settings

pytestmark = pytest.mark.integration


def saved_indexes(app: RegistryApplication) -> list[EnterpriseIndex]:
    """Indexes at versions around the snapshot interval (100): before, at, and past a snapshot."""
    indexes = []
    for n, changes in enumerate((0, 5, 99, 100, 101, 230)):
        index = EnterpriseIndex(kind="town", value=f"镇{n}")
        for k in range(changes):
            index.change(added={f"e{n}-{k}"}, removed={f"e{n}-{k - 3}"} if k % 4 == 0 else set())
            if k % 7 == 0 or k == changes - 1:
                app.save(index)  # saves of several events each: snapshots land where they fall
        app.save(index)
        indexes.append(index)
    return indexes


def state(index: Any) -> tuple[Any, ...]:
    return index.id, index.version, index.kind, index.value, dict(index.members)


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_read_together_equals_read_one_by_one(
    backend: str, tmp_path: Path, infrastructure: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_store(RegistryApplication, make_settings(tmp_path, backend))
    try:
        indexes = saved_indexes(app)
        assert app.snapshots is not None
        assert any(list(app.snapshots.get(i.id)) for i in indexes)  # some are read from a snapshot
        never_saved = uuid.uuid4()
        monkeypatch.setattr(store, "MANY_AT_ONCE", 4)  # the six ids and the missing one in two reads
        found = app.get_many([never_saved, *(i.id for i in indexes), indexes[0].id])
        assert never_saved not in found
        assert [state(found[i.id]) for i in indexes] == [state(app.repository.get(i.id)) for i in indexes]
        assert [state(found[i.id]) for i in indexes] == [state(i) for i in indexes]
    finally:
        app.close()
