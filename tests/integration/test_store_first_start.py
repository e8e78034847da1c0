"""A hub's first start on a new PostgreSQL server: its processes all find the database missing and
create it at the same moment; every one of them must come up (the losers of the race included)."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from services.backbone.store import open_store
from services.registry.application import RegistryApplication
from tests.conftest import PG_URL, make_settings

pytestmark = pytest.mark.integration


def test_processes_starting_together_on_a_new_server_all_open_their_store(
    tmp_path: Path, infrastructure: dict[str, str]
) -> None:
    name = f"hub_first_{uuid.uuid4().hex[:8]}"
    settings = make_settings(tmp_path, "postgres", database_url=PG_URL.rsplit("/", 1)[0] + "/" + name)
    together = threading.Barrier(8)
    opened: list[RegistryApplication] = []
    failed: list[BaseException] = []

    def start() -> None:
        together.wait()
        try:
            opened.append(open_store(RegistryApplication, settings))
        except BaseException as error:  # noqa: BLE001 - the test reports what a process died of
            failed.append(error)

    threads = [threading.Thread(target=start) for _ in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert failed == []
        assert len(opened) == 8
        assert all(app.recorder.max_notification_id() in (0, None) for app in opened)
    finally:
        for app in opened:
            app.close()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
