"""Tampering with a stopped hub's stores on real PostgreSQL, as an insider with the database (and, in
some cases, the hub's keys) would: every kind is found given one department's anchors, and the report
names what and where."""

from __future__ import annotations

import dataclasses
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from services.audit.builder import Policy
from services.audit.findings import Finding
from services.audit.reader import AuditReader
from services.audit.worker import AuditWorker
from services.backbone import at_rest, links
from services.backbone.settings import Settings
from services.backbone.store import open_store
from services.kernel.signatures import generate_keypair
from services.kernel.tree_heads import Anchor
from services.registry.application import RegistryApplication
from tests.factories import enterprise_fields
from tests.integration.test_audit import hubctl, sql

pytestmark = pytest.mark.integration


def sign(settings: Settings) -> None:
    worker = AuditWorker(settings, Policy(checkpoint_every=8), workers=1)
    worker.run_once(sign_now=True)
    worker.close()


@pytest.fixture
def history(pg_settings: Settings) -> Iterator[tuple[list[str], list[Anchor]]]:
    """Eleven enterprises registered in rounds, a head signed after each: the heads every department
    received are the anchors one department (AJJ-TEZ) kept."""
    registry = open_store(RegistryApplication, pg_settings)
    ids = []
    for start in (1, 4, 7, 10):
        ids += [registry.register(enterprise_fields(n))["enterprise_id"] for n in range(start, start + 3)]
        sign(pg_settings)
    registry.close()
    reader = AuditReader(pg_settings)
    assert reader.audit is not None
    anchors = [Anchor(h.head, "AJJ-TEZ") for h in reader.audit.heads("registry")]
    reader.close()
    assert len(anchors) == 4
    yield ids, anchors


def verify(settings: Settings, anchors: list[Anchor]) -> list[Finding]:
    reader = AuditReader(settings)
    try:
        (report,) = reader.verify(["registry"], anchors=anchors)
    finally:
        reader.close()
    return report.findings


def table(settings: Settings, service: str = "registry") -> str:
    return f'"{settings.schema_for(service)}"."{service}application_events"'


def rows(settings: Settings) -> list[tuple[Any, ...]]:
    return sql(settings, f"SELECT notification_id, originator_id FROM {table(settings)} ORDER BY 1")


def alter(settings: Settings, notification_id: int) -> None:
    """Changes an event's address as one who holds the database and the stores' key would: opened,
    edited, sealed again (the stores are encrypted at rest)."""
    [(stored,)] = sql(
        settings, f"SELECT state FROM {table(settings)} WHERE notification_id = %s", (notification_id,)
    )
    cipher = at_rest.StoreCipher(settings.cipher_env()) if settings.encrypt_stores else None
    written = cipher.decrypt(bytes(stored)) if cipher else bytes(stored)
    changed = written.replace("工业园".encode(), "工业区".encode())
    assert changed != written
    sealed = cipher.encrypt(changed) if cipher else changed
    sql(
        settings,
        f"UPDATE {table(settings)} SET state = %s WHERE notification_id = %s",
        (sealed, notification_id),
    )


def registration(settings: Settings, enterprise: str) -> int:
    return next(n for n, oid in rows(settings) if str(oid) == enterprise)


def relink(settings: Settings, key: bytes) -> None:
    """What an insider holding the write-link key does after changing events: a fresh link per event."""
    links_table = f'"{settings.schema_for("registry")}"."registryapplication_events_links"'
    sql(settings, f"DELETE FROM {links_table}")
    registry = open_store(RegistryApplication, settings, CREATE_TABLE="false")
    previous = links.genesis("registry")
    for n in registry.recorder.select_notifications(start=None, limit=100_000):
        row = links.row_for(key, "registry", previous, [n.id], [links.digest(n)])
        sql(settings, f"INSERT INTO {links_table} VALUES (%s, %s, %s, %s)", tuple(row))
        previous = row.link
    registry.close()


def wipe_audit(settings: Settings, above: int | None = None) -> None:
    """The audit store deleted (above=None), or its records after a notification id."""
    audit = f'"{settings.schema_for("audit")}"'
    if above is None:
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {audit} CASCADE")
    else:
        sql(settings, f"DELETE FROM {audit}.auditapplication_events WHERE notification_id > %s", (above,))


def kinds(found: list[Finding]) -> set[str]:
    return {f.kind for f in found}


def covers(found: list[Finding], kind: str, notification_id: int) -> bool:
    return any(
        f.kind == kind and f.notification_id <= notification_id <= max(f.last_id, f.notification_id)
        for f in found
    )


def test_untouched_history_verifies_against_the_anchors(pg_settings: Settings, history: Any) -> None:
    _, anchors = history
    assert verify(pg_settings, anchors) == []


def test_a_forged_event_after_the_head_is_never_signed_and_is_named(
    pg_settings: Settings, history: Any
) -> None:
    _, anchors = history
    forged = uuid.uuid4()
    sql(
        pg_settings,
        f"INSERT INTO {table(pg_settings)} (originator_id, originator_version, topic, state) "
        f"SELECT %s, 1, topic, state FROM {table(pg_settings)} ORDER BY notification_id DESC LIMIT 1",
        (forged,),
    )
    registry = open_store(RegistryApplication, pg_settings)
    registry.register(enterprise_fields(20))  # the service goes on writing after it
    registry.close()
    sign(pg_settings)  # the next signing does not take it in (as the old chain did)
    found = verify(pg_settings, anchors)
    (unlinked,) = [f for f in found if f.kind == "unlinked"]
    assert unlinked.originator_id == str(forged)
    reader = AuditReader(pg_settings)
    latest = reader.audit.latest_head("registry")  # type: ignore[union-attr]
    reader.close()
    assert latest is not None and latest.head.position < unlinked.notification_id


def test_an_event_altered_and_everything_recomputed_with_both_stolen_keys_breaks_the_anchors(
    pg_settings: Settings, history: Any
) -> None:
    ids, anchors = history
    target = registration(pg_settings, ids[4])
    alter(pg_settings, target)
    relink(pg_settings, links.write_key(pg_settings))  # the write-link key stolen too
    wipe_audit(pg_settings)
    sign(pg_settings)  # re-signed with the audit key, which the insider has
    found = verify(pg_settings, anchors)
    assert not covers(found, "unlinked", target)  # the links and the hub's own heads are all consistent…
    assert covers(found, "rewritten", target)  # …but not with what AJJ-TEZ holds
    assert "forked" in kinds(found)
    rewritten = next(f for f in found if f.kind == "rewritten")
    assert "AJJ-TEZ" in rewritten.detail and rewritten.last_id >= target


def test_an_event_altered_with_the_audit_key_stolen_is_unlinked_and_rewritten(
    pg_settings: Settings, history: Any
) -> None:
    ids, anchors = history
    target = registration(pg_settings, ids[1])
    alter(pg_settings, target)
    wipe_audit(pg_settings)
    sign(pg_settings)  # the tree stops before the changed event: the worker signs nothing it cannot link
    found = verify(pg_settings, anchors)
    assert covers(found, "unlinked", target) and covers(found, "rewritten", target)
    assert "records" in kinds(found)  # the heads AJJ-TEZ holds are gone from the audit store


def test_an_event_altered_and_the_audit_records_deleted(pg_settings: Settings, history: Any) -> None:
    ids, anchors = history
    target = registration(pg_settings, ids[7])
    alter(pg_settings, target)
    wipe_audit(pg_settings)
    found = verify(pg_settings, anchors)
    assert covers(found, "unlinked", target) and covers(found, "rewritten", target)
    records = [f for f in found if f.kind == "records"]
    assert len(records) == len(anchors) and all("missing from the audit store" in f.detail for f in records)


def test_the_store_truncated_to_an_earlier_head_with_the_audit_s_later_records(
    pg_settings: Settings, history: Any
) -> None:
    _, anchors = history
    early = anchors[1].head
    sql(pg_settings, f"DELETE FROM {table(pg_settings)} WHERE notification_id > %s", (early.position,))
    links_table = f'"{pg_settings.schema_for("registry")}"."registryapplication_events_links"'
    sql(pg_settings, f"DELETE FROM {links_table} WHERE last_id > %s", (early.position,))
    audit = f'"{pg_settings.schema_for("audit")}".auditapplication_events'
    signed = sql(
        pg_settings, f"SELECT notification_id FROM {audit} WHERE topic LIKE '%%TreeHead.Signed' ORDER BY 1"
    )
    wipe_audit(pg_settings, above=signed[1][0])  # every record after head 1's
    found = verify(pg_settings, anchors)
    truncated = [f for f in found if f.kind == "truncated"]
    assert {a.head.sequence for a in anchors if a.head.tree_size > early.tree_size} == {
        int(f.detail.split("anchor ")[1].split()[0]) for f in truncated if "anchor" in f.detail
    }
    assert "records" in kinds(found)


def test_the_whole_audit_store_deleted(pg_settings: Settings, history: Any) -> None:
    _, anchors = history
    wipe_audit(pg_settings)
    found = verify(pg_settings, anchors)
    assert kinds(found) == {"records"} and len(found) == len(anchors)


def test_the_whole_store_replaced_by_a_consistent_history_under_new_keys(
    pg_settings: Settings, history: Any
) -> None:
    _, anchors = history
    with psycopg.connect(pg_settings.database_url, autocommit=True) as conn:
        for service in ("registry", "audit"):
            conn.execute(f'DROP SCHEMA "{pg_settings.schema_for(service)}" CASCADE')
    # the insider's hub: its own write-link key and audit key, a history of its own, all consistent
    insider = dataclasses.replace(
        pg_settings, chain_key=os.urandom(32).hex(), audit_private_key=generate_keypair().private_key_hex
    )
    registry = open_store(RegistryApplication, insider)
    for n in range(31, 43):
        registry.register(enterprise_fields(n))
    registry.close()
    sign(insider)
    found = verify(insider, anchors)
    assert {"rewritten", "forked"} <= kinds(found) and not {"unlinked", "head"} & kinds(found)
    assert all(f.kind != "rewritten" or f.notification_id == 1 for f in found)  # from the first event on


def test_the_cli_names_what_and_where_from_a_department_s_anchor_folder(
    pg_settings: Settings, history: Any, tmp_path: Path
) -> None:
    ids, anchors = history
    folder = anchor_folder(anchors, tmp_path / "anchors")
    clean = hubctl(pg_settings, "verify", "--service", "registry", "--anchors", str(folder))
    assert clean.returncode == 0, clean.stdout + clean.stderr
    target = registration(pg_settings, ids[2])
    sql(pg_settings, f"DELETE FROM {table(pg_settings)} WHERE notification_id = %s", (target,))
    cli = hubctl(pg_settings, "verify", "--service", "registry", "--anchors", str(folder))
    assert cli.returncode == 1
    assert f"registry #{target}" in cli.stdout and "removed" in cli.stdout
    assert "rewritten" in cli.stdout and "AJJ-TEZ" in cli.stdout


def anchor_folder(anchors: list[Anchor], where: Path) -> Path:
    where.mkdir()
    document = {"holder": "AJJ-TEZ", "heads": [a.head.as_dict() for a in anchors]}
    (where / "AJJ-TEZ.json").write_text(json.dumps(document), encoding="utf-8")
    return where


@pytest.mark.parametrize("cut", ["an event deleted", "the tail truncated"])
def test_a_bundle_exported_after_events_vanish_fails_against_the_anchors(
    pg_settings: Settings, history: Any, tmp_path: Path, cut: str
) -> None:
    ids, anchors = history
    folder = anchor_folder(anchors, tmp_path / "anchors")
    enterprise = ids[4] if cut == "an event deleted" else ids[0]
    before = tmp_path / "before.zip"
    assert hubctl(pg_settings, "export", "--enterprise", enterprise, "--out", str(before)).returncode == 0
    assert hubctl(pg_settings, "verify-bundle", str(before), "--anchors", str(folder)).returncode == 0
    if cut == "an event deleted":
        gone = registration(pg_settings, enterprise)
        sql(pg_settings, f"DELETE FROM {table(pg_settings)} WHERE notification_id = %s", (gone,))
    else:
        sql(
            pg_settings,
            f"DELETE FROM {table(pg_settings)} WHERE notification_id > %s",
            (anchors[1].head.position,),
        )
    relink(pg_settings, links.write_key(pg_settings))  # both keys stolen: links, tree and heads all made anew
    wipe_audit(pg_settings)
    after = tmp_path / "after.zip"
    exported = hubctl(pg_settings, "export", "--enterprise", enterprise, "--out", str(after))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    alone = hubctl(pg_settings, "verify-bundle", str(after))
    assert alone.returncode == 0, alone.stdout  # consistent in itself: the insider held every key…
    checked = hubctl(pg_settings, "verify-bundle", str(after), "--anchors", str(folder))
    assert checked.returncode == 1, checked.stdout  # …but not with what AJJ-TEZ holds
    expected = "rewritten below it" if cut == "an event deleted" else "truncated from"
    assert expected in checked.stdout and "AJJ-TEZ" in checked.stdout
