"""A service whose database is away (PostgreSQL restarting) answers UnavailableError, which the gateway
answers UNAVAILABLE, and logs one line; a fault of the hub stays a RemoteError (INTERNAL) with its
traceback. make chaos saw INTERNAL answers to RegisterEnterprise while PostgreSQL restarted."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from nameko.exceptions import RemoteError

from services.backbone import correlation
from services.backbone.edge.status import status_code
from services.backbone.errors import UnavailableError
from services.backbone.rpc import rpc_queue
from services.backbone.rpc_client import Services
from services.backbone.settings import Settings
from tests.conftest import NAMEKO_RUN, ROOT, cleanup, make_settings, settings_env, wait_for
from tests.integration.test_quiet_logs import consuming

pytestmark = pytest.mark.integration


@pytest.fixture
def sqlite_settings(infrastructure: dict[str, str], tmp_path: Path) -> Iterator[Settings]:
    value = make_settings(tmp_path, "sqlite")  # the service's own store plays no part
    yield value
    cleanup(value)


def test_a_store_out_of_reach_is_unavailable_in_one_line(sqlite_settings: Settings, tmp_path: Path) -> None:
    settings = sqlite_settings
    name = f"outage_{uuid.uuid4().hex[:8]}"
    log_path = tmp_path / "service.log"
    env = {**settings_env(settings), "STORE_OUTAGE_SERVICE_NAME": name}
    args = ["-m", NAMEKO_RUN, "--config", "infra/nameko.yaml", "tests.integration.store_outage_service"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    services = Services(settings)
    try:
        queue = rpc_queue(settings.namespace, name)
        wait_for(lambda: consuming(settings, queue), timeout=60, what="the service to start")
        with correlation.bound("cid-outage"), pytest.raises(UnavailableError) as away:
            services.call(name, "read_while_the_database_is_away")
        with correlation.bound("cid-peer"), pytest.raises(UnavailableError) as peer:
            services.call(name, "call_a_service_nothing_takes_calls_for")
        with correlation.bound("cid-fault"), pytest.raises(RemoteError) as fault:
            services.call(name, "read_a_missing_table")
    finally:
        services.close()
        proc.terminate()
        proc.wait(timeout=30)
    assert status_code(away.value) == grpc.StatusCode.UNAVAILABLE  # the gateway's answer: try again
    assert f"the {name} service's store cannot be reached now" in str(away.value)
    assert status_code(peer.value) == grpc.StatusCode.UNAVAILABLE
    assert f"the {name} service cannot reach another service now" in str(peer.value)
    assert fault.value.exc_type == "ProgrammingError"  # a fault of the hub: INTERNAL, as before
    text = log_path.read_text(errors="replace")
    outage = [line for line in text.splitlines() if "store_unreachable" in line]
    assert len(outage) == 1, text
    assert "[warning" in outage[0] and "correlation_id=cid-outage" in outage[0]
    assert f"method={name}.read_while_the_database_is_away" in outage[0]
    assert "couldn't get a connection" in outage[0]  # what the database said stays in the log
    [peer_line] = [line for line in text.splitlines() if "peer_unreachable" in line]
    assert "correlation_id=cid-peer" in peer_line and "nobody_home" in peer_line
    # the only tracebacks are the fault's (psycopg's error and eventsourcing's from it)
    assert text.count("Traceback") == 2 and "UndefinedTable" in text, text
    assert text.count("read_while_the_database_is_away") == 1 and "PoolTimeout" not in text, text
