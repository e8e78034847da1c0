"""Audit on real PostgreSQL: a store with gaps verifies, time travel, history with each event's status
(the tampering suite is test_audit_tamper.py)."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError

from services.audit.builder import Policy
from services.audit.reader import AuditReader
from services.audit.timeline import chain_status, history, state_as_of
from services.audit.worker import AuditWorker
from services.backbone.settings import Settings
from services.backbone.store import open_store
from services.filing.application import FilingApplication
from services.filing.views import EnterpriseView
from services.registry.application import RegistryApplication
from tests.conftest import ROOT, settings_env
from tests.factories import enterprise_fields

pytestmark = pytest.mark.integration
PROFILE = ("name", "legal_representative", "legal_representative_mobile", "industry", "address", "town")


@pytest.fixture
def registry(pg_settings: Settings) -> Iterator[RegistryApplication]:
    app = open_store(RegistryApplication, pg_settings)
    yield app
    app.close()


def chain_all(settings: Settings) -> None:
    """Every linked event into its store's tree, and a head signed now."""
    worker = AuditWorker(settings, Policy(checkpoint_every=8), workers=1)
    worker.run_once(sign_now=True)
    worker.close()


def sql(settings: Settings, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        cursor = conn.execute(statement, params)  # with params, '%%' means '%'
        return cursor.fetchall() if cursor.description else []


def events_table(settings: Settings, app: RegistryApplication) -> str:
    return f'"{settings.schema_for("registry")}"."{app.recorder.events_table_name}"'


def hubctl(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hubctl.main", "audit", *args],
        cwd=ROOT,
        env={**settings_env(settings), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def burn_a_notification_id(registry: RegistryApplication, enterprise: str) -> None:
    """A save that loses a race rolls back after taking a notification id: PostgreSQL leaves a gap."""
    stale = registry.repository.get(uuid.UUID(enterprise))
    registry.update(enterprise, {"address": "张山子镇工业园100号"})
    stale.update_profile({"address": "张山子镇工业园200号"})
    with pytest.raises(IntegrityError):
        registry.save(stale)


def test_a_burnt_notification_id_is_no_finding_and_verify_reads_every_event(
    pg_settings: Settings, registry: Any
) -> None:
    ids = [registry.register(enterprise_fields(n))["enterprise_id"] for n in range(1, 5)]
    burn_a_notification_id(registry, ids[0])
    ids += [registry.register(enterprise_fields(n))["enterprise_id"] for n in range(5, 8)]
    chain_all(pg_settings)
    reader = AuditReader(pg_settings)
    (report,) = reader.verify(["registry"])
    reader.close()
    head = registry.recorder.max_notification_id()
    stored = len(sql(pg_settings, f"SELECT 1 FROM {events_table(pg_settings, registry)}"))
    assert report.ok and report.events == report.linked == report.signed_size == stored < head
    cli = hubctl(pg_settings, "verify", "--service", "registry")
    assert cli.returncode == 0 and "intact" in cli.stdout, cli.stdout + cli.stderr


def test_replay_as_of_shows_the_enterprise_as_it_was(pg_settings: Settings, registry: Any) -> None:
    before = datetime.now(UTC)
    eid = registry.register(enterprise_fields(1))["enterprise_id"]
    registry.register(enterprise_fields(2))
    as_registered, registered_at = registry.get(eid), datetime.now(UTC)
    time.sleep(0.05)
    registry.update(eid, {"address": "张山子镇新区1号", "legal_representative_mobile": "13900001111"})
    as_updated, updated_at = registry.get(eid), datetime.now(UTC)
    reader = AuditReader(pg_settings)

    def enterprise_at(moment: datetime) -> dict[str, Any] | None:
        states = state_as_of(reader.sources(), uuid.UUID(eid), moment)
        found = [s for s in states if s.aggregate_type == "Enterprise"]
        return {**found[0].state, "version": found[0].version} if found else None

    assert enterprise_at(before) is None
    for moment, expected in ((registered_at, as_registered), (updated_at, as_updated)):
        replayed = enterprise_at(moment)
        assert replayed is not None
        assert {k: replayed[k] for k in (*PROFILE, "status", "version")} == {
            k: expected[k] for k in (*PROFILE, "status", "version")
        }
    assert enterprise_at(registered_at)["address"] != as_updated["address"]  # type: ignore[index]
    reader.close()

    cli = hubctl(pg_settings, "replay", "--enterprise", eid, "--as-of", registered_at.isoformat(), "--json")
    assert cli.returncode == 0, cli.stderr
    assert as_registered["address"] in cli.stdout and as_updated["address"] not in cli.stdout


def test_history_spans_stores_and_shows_what_is_signed(pg_settings: Settings, registry: Any) -> None:
    eid = registry.register(enterprise_fields(1))["enterprise_id"]
    other = registry.register(enterprise_fields(2))["enterprise_id"]
    filing = open_store(FilingApplication, pg_settings)
    filing.save(EnterpriseView(enterprise_id=eid, profile={"name": "view"}))
    filing.save(EnterpriseView(enterprise_id=other, profile={"name": "other"}))
    filing.close()
    chain_all(pg_settings)
    registry.update(eid, {"address": "张山子镇新区2号"})
    reader = AuditReader(pg_settings)
    events = history(reader.sources(), uuid.UUID(eid))
    assert {(e.store, e.type) for e in events} >= {
        ("registry", "Enterprise.Registered"),
        ("registry", "Enterprise.ProfileUpdated"),
        ("filing", "EnterpriseView.Recorded"),
    }
    assert all(other not in (e.originator_id, e.enterprise_id) for e in events)
    assert [e.occurred_at for e in events] == sorted(e.occurred_at for e in events)
    status = chain_status(reader.audit, events)  # type: ignore[arg-type]
    reader.close()
    latest = next(e for e in events if e.type == "Enterprise.ProfileUpdated")
    assert status.pop((latest.store, latest.notification_id)) == "unsigned"
    assert set(status.values()) == {"signed"}
    cli = hubctl(pg_settings, "history", "--enterprise", eid)
    assert cli.returncode == 0 and "EnterpriseView.Recorded" in cli.stdout, cli.stderr
