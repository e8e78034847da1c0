"""Write-time links on real PostgreSQL: COPY and INSERT paths, concurrent writers, rolled-back saves."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError

from services.audit.scan import BEFORE_ALL, plan, scan
from services.backbone import link_recorders
from services.backbone.settings import Settings
from services.backbone.store import open_store
from services.registry.application import RegistryApplication
from tests.factories import enterprise_fields

pytestmark = pytest.mark.integration


def checked(app: RegistryApplication) -> tuple[int, list[Any]]:
    head = app.recorder.max_notification_id() or 0
    key = link_recorders.key_of(app.env).write()  # the key its recorder links with
    tasks = plan(app, "registry", after=BEFORE_ALL, stop=head, previous_link=None, key=key)
    results = [scan(app, t) for t in tasks]
    return sum(r.good for r in results), [f for r in results for f in r.findings]


@pytest.mark.parametrize("copy", ["true", "false"], ids=["copy", "insert"])
def test_concurrent_writers_keep_one_valid_chain_and_a_rollback_leaves_no_row(
    pg_settings: Settings, copy: str
) -> None:
    apps = [open_store(RegistryApplication, pg_settings, HUB_COPY_EVENTS=copy) for _ in range(2)]
    assert all(type(a.recorder).__name__.startswith("Linking") for a in apps)
    failures: list[BaseException] = []

    def write(app: RegistryApplication, first: int) -> None:
        try:
            for n in range(first, first + 12):
                app.register(enterprise_fields(n))
        except BaseException as error:  # noqa: BLE001 - reported by the test
            failures.append(error)

    threads = [threading.Thread(target=write, args=(app, 1 + 20 * i)) for i, app in enumerate(apps)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures

    # a save that loses a race rolls back: its ids are burnt, and its row never existed
    registry = apps[0]
    enterprise = registry.register(enterprise_fields(90))["enterprise_id"]
    stale = registry.repository.get(uuid.UUID(enterprise))
    registry.update(enterprise, {"address": "张山子镇工业园100号"})
    stale.update_profile({"address": "张山子镇工业园200号"})
    with pytest.raises(IntegrityError):
        registry.save(stale)
    registry.register(enterprise_fields(91))

    good, found = checked(registry)
    total = len(list(registry.recorder.select_notifications(start=None, limit=10_000)))
    assert not found and good == total
    rows = link_recorders.rows(registry.recorder, BEFORE_ALL)
    assert rows is not None and sum(r.events for r in rows) == total

    # someone with the database alone appends an event: it stays outside every row
    schema, table = pg_settings.schema_for("registry"), registry.recorder.events_table_name
    with psycopg.connect(pg_settings.database_url, autocommit=True) as conn:
        conn.execute(
            f'INSERT INTO "{schema}"."{table}" (originator_id, originator_version, topic, state) '
            f'SELECT %s, 1, topic, state FROM "{schema}"."{table}" ORDER BY notification_id LIMIT 1',
            (uuid.uuid4(),),
        )
    good_after, found = checked(registry)
    assert good_after == total and [f.kind for f in found] == ["unlinked"]
    for app in apps:
        app.close()


def test_a_link_written_in_a_transaction_that_failed_is_not_built_on(
    pg_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recorder remembers the link it wrote last rather than reading it back; a transaction that
    wrote its link row and then failed must not become the next one's previous link."""
    registry = open_store(RegistryApplication, pg_settings)
    try:
        registry.register(enterprise_fields(1))
        recorder: Any = registry.recorder
        link = type(recorder)._link

        def link_then_fail(self: Any, curs: Any, ids: Any, stored_events: Any) -> None:
            link(self, curs, ids, stored_events)
            raise psycopg.OperationalError("the connection dropped before the commit")

        monkeypatch.setattr(type(recorder), "_link", link_then_fail)
        with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the library makes of it
            registry.register(enterprise_fields(2))
        monkeypatch.setattr(type(recorder), "_link", link)
        for n in range(3, 6):
            registry.register(enterprise_fields(n))
        good, found = checked(registry)
        total = len(list(registry.recorder.select_notifications(start=None, limit=10_000)))
        assert not found and good == total
    finally:
        registry.close()
