"""Write-time links: every transaction's events linked by the writing service, under a key the
database does not hold; what is written past the service is found (in memory and on SQLite)."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from services.audit.scan import BEFORE_ALL, plan, scan
from services.backbone import keyfiles, link_recorders, links
from services.backbone.settings import Settings
from services.registry.application import RegistryApplication
from tests.conftest import two_processes_on_one_store
from tests.factories import enterprise_fields


def sqlite_registry(tmp_path: Path, **env: str) -> RegistryApplication:
    return RegistryApplication(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "registry.db"),
            "HUB_RUNTIME_DIR": str(tmp_path),
            **env,
        }
    )


def findings(app: RegistryApplication, key: bytes | None = None) -> tuple[Any, list[Any]]:
    head = app.recorder.max_notification_id() or 0
    key = link_recorders.key_of(app.env).write() if key is None else key
    results = [
        scan(app, t) for t in plan(app, "registry", after=BEFORE_ALL, stop=head, previous_link=None, key=key)
    ]
    found = [f for r in results for f in r.findings]
    return results, found


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_each_save_writes_one_row_covering_its_events_and_the_rows_chain(
    tmp_path: Path, backend: str
) -> None:
    app = (
        sqlite_registry(tmp_path)
        if backend == "sqlite"
        else RegistryApplication(env={"HUB_RUNTIME_DIR": str(tmp_path)})
    )
    saves = []
    for n in range(1, 5):
        before = app.recorder.max_notification_id() or 0
        app.register(enterprise_fields(n))
        saves.append((before + 1, app.recorder.max_notification_id()))
    rows = link_recorders.rows(app.recorder, BEFORE_ALL)
    assert rows is not None and [(r.first_id, r.last_id) for r in rows] == saves
    assert all(r.events == r.last_id - r.first_id + 1 for r in rows)
    results, found = findings(app)
    assert not found and sum(r.good for r in results) == saves[-1][1]
    # under another key nothing checks out: the link is a MAC, not a hash anyone can recompute
    _, forged = findings(app, key=os.urandom(32))
    assert forged and forged[0].kind == "unlinked" and forged[0].notification_id == 1


def test_an_event_written_past_the_service_is_named_and_never_linked(tmp_path: Path) -> None:
    app = sqlite_registry(tmp_path)
    for n in range(1, 4):
        app.register(enterprise_fields(n))
    head = app.recorder.max_notification_id() or 0
    db = sqlite3.connect(tmp_path / "registry.db")
    table = app.recorder.events_table_name
    # one event appended after the head, as someone with the database file alone could
    db.execute(
        f"INSERT INTO {table} (originator_id, originator_version, topic, state) SELECT "
        f"'ab' || substr(originator_id, 3), originator_version, topic, state FROM {table} WHERE rowid = 1"
    )
    db.commit()
    app.register(enterprise_fields(4))  # the service goes on writing after it
    _, found = findings(app)
    assert [(f.kind, f.notification_id) for f in found] == [("unlinked", head + 1)]

    # and one event changed in place: its transaction's row no longer matches
    db.execute(f"UPDATE {table} SET state = replace(state, '工业园2号', '工业园9号') WHERE rowid <= {head}")
    db.commit()
    _, found = findings(app)
    changed = next(f for f in found if f.notification_id < head)
    assert changed.kind == "unlinked" and "changed, added or removed" in changed.detail
    assert changed.last_id > changed.notification_id  # the range of the transaction that no longer matches
    db.close()


def test_two_processes_writing_one_store_keep_one_chain(tmp_path: Path) -> None:
    first, second = two_processes_on_one_store(RegistryApplication, tmp_path)
    for n in range(1, 7):
        (first if n % 2 else second).register(enterprise_fields(n))
    results, found = findings(first)
    assert not found and sum(r.good for r in results) == first.recorder.max_notification_id()


def test_without_links_every_event_is_reported_once_as_a_range(tmp_path: Path) -> None:
    app = sqlite_registry(tmp_path, HUB_WRITE_LINKS="false")
    for n in range(1, 3):
        app.register(enterprise_fields(n))
    assert link_recorders.rows(app.recorder, BEFORE_ALL) is None
    _, found = findings(app)
    assert (
        len(found) == 1
        and found[0].kind == "unlinked"
        and found[0].count == app.recorder.max_notification_id()
    )
    assert "no write-time links" in found[0].detail


def test_the_key_is_made_once_0600_and_never_inside_the_runtime_folder(tmp_path: Path) -> None:
    settings = Settings(runtime_dir=tmp_path / "var", chain_key_file=tmp_path / "keys" / "write-link.key")
    key = links.write_key(settings)
    path = tmp_path / "keys" / "write-link.key"
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert links.write_key(settings) == key  # the same key for every process
    inside = dataclasses.replace(settings, chain_key_file=tmp_path / "var" / "write-link.key")
    with pytest.raises(keyfiles.KeyLocationError, match="inside the runtime folder"):
        links.write_key(inside)


def test_the_key_file_defaults_to_the_secrets_folder_and_a_given_key_needs_none(tmp_path: Path) -> None:
    settings = Settings.from_env({"HUB_SECRETS_DIR": str(tmp_path / "secrets"), "HOME": str(tmp_path)})
    assert settings.chain_key_path == tmp_path / "secrets" / "write-link.key"
    assert links.read_key(settings) is None  # nobody made it: an outside auditor checks no links
    key = links.write_key(settings)
    assert links.read_key(settings) == key == bytes.fromhex(settings.chain_key_path.read_text())
    given = Settings.from_env({"HUB_CHAIN_KEY": "ab" * 32, "HUB_CHAIN_KEY_FILE": str(tmp_path / "never.key")})
    assert links.write_key(given) == links.read_key(given) == b"\xab" * 32
    assert not (tmp_path / "never.key").exists()


def test_a_store_links_with_its_settings_key(tmp_path: Path) -> None:
    settings = Settings(runtime_dir=tmp_path / "var", secrets_dir=tmp_path / "secrets", chain_key="cd" * 32)
    app = RegistryApplication(env={**settings.app_env(), "HUB_CHAIN_KEY": settings.chain_key})
    app.register(enterprise_fields(1))
    _, found = findings(app, key=b"\xcd" * 32)
    assert not found and app.recorder.link_key.write() == b"\xcd" * 32
