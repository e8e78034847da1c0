"""The operator's command line against the hub as `make run` starts it: removing a department, its
subscription and its deliveries; `status` true for every store and every process's /metrics; every
listing fits 80 columns and has --json."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hub.v1 import filing_pb2 as fpb
from nameko.standalone.rpc import ClusterRpcProxy
from rich.cells import cell_len
from typer.testing import CliRunner

from departments import subscriptions
from hubctl.main import app as hubctl
from services.backbone import topology
from tests.conftest import Hub, procfile, wait_for
from tests.e2e.filing_flow import Filer, setup_departments

pytestmark = pytest.mark.e2e
PULLED = "XF-OP"  # a department without a platform: its filings wait for it to pull them


def run(hub: Hub, *args: str, columns: int = 80) -> str:
    result = CliRunner().invoke(hubctl, list(args), env={**hub.env, "COLUMNS": str(columns)})
    assert result.exit_code == 0, f"hubctl {' '.join(args)}: {result.output}"
    return str(result.output)


def as_json(hub: Hub, *args: str) -> Any:
    return json.loads(run(hub, *args, "--json"))


def tally(hub: Hub, department: str) -> dict[str, int]:
    rows = as_json(hub, "deliveries", "list")["departments"]
    found = [r for r in rows if r["department"] == department]
    return {k: v for k, v in found[0].items() if k != "department" and v} if found else {}


@pytest.fixture(scope="module")
def filer(hub: Hub) -> Iterator[Filer]:
    setup_departments(hub)
    run(hub, "departments", "add", PULLED, "--name", "台儿庄区消防救援大队", "--kind", "消防")
    run(hub, "routing", "set", "化工", "*", "AJJ-TEZ", PULLED)
    yield Filer.register(hub, 7001)
    subscriptions.remove(hub.settings, PULLED)  # broker users outlive the test's virtual host


def test_a_removed_department_gets_no_more_filings_and_keeps_those_it_was_sent(
    hub: Hub, filer: Filer
) -> None:
    made = json.loads(run(hub, "subscriptions", "create", PULLED))
    assert made["queue"].endswith(f"dept.{PULLED}.filings")
    first = filer.file()
    assert set(filer.ledger(first)) == {"AJJ-TEZ", "TOWN-ZSZ", PULLED}
    # the ledger's tally: nobody pushes to a pulling department, so its filing waits
    wait_for(lambda: tally(hub, PULLED) == {"pending": 1, "total": 1}, timeout=30, what="the tally")
    wait_for(lambda: tally(hub, "AJJ-TEZ").get("acknowledged") == 1, timeout=60, what="AJJ-TEZ's answer")
    # its subscription's queue received the filing too
    subscribed = {s["department"]: s for s in as_json(hub, "subscriptions", "list")}
    assert subscribed[PULLED]["ready"] == 1 and subscribed[PULLED]["user"].endswith(f"dept-{PULLED}")
    assert f"dept-{PULLED}" in run(hub, "subscriptions", "list")

    removed = run(hub, "departments", "remove", PULLED)
    assert f"{PULLED}: removed; 1 enterprises re-assigned" in removed and "broker user" in removed
    assert "removed already" in run(hub, "departments", "remove", PULLED)
    assert PULLED not in run(hub, "departments", "list")
    assert {d["code"]: d["removed"] for d in as_json(hub, "departments", "list", "--all")}[PULLED] is True
    assert all(PULLED not in rule["departments"] for rule in as_json(hub, "routing", "show")["rules"])
    assert PULLED not in {s["department"] for s in as_json(hub, "subscriptions", "list")}

    # the next version goes to the others only; the one it was sent stays, with its answer pending
    filer.wait_until_filing_knows_it()

    def without_it() -> bool:
        with ClusterRpcProxy(hub.settings.nameko_config) as rpc:
            return PULLED not in rpc.filing.enterprise_view(filer.enterprise_id)["supervisors"]

    wait_for(without_it, timeout=60, what="the filing service to see the new supervisors")
    second = filer.file()
    assert second == first + 1
    assert set(filer.ledger(second)) == {"AJJ-TEZ", "TOWN-ZSZ"}
    assert filer.ledger(first)[PULLED][0] == fpb.DELIVERY_STATE_PENDING
    assert tally(hub, PULLED) == {"pending": 1, "total": 1}
    unanswered = as_json(hub, "deliveries", "list", "--department", PULLED)["open"]
    assert [(o["enterprise_id"], o["version"]) for o in unanswered] == [(filer.enterprise_id, first)]


def test_status_is_true_for_every_store_and_lists_every_process_metrics(hub: Hub, filer: Filer) -> None:
    def caught_up() -> dict[str, Any] | None:
        data = as_json(hub, "status")
        stores = {k: v for k, v in data.items() if k != "processes"}
        if all(s["exists"] and s["relay_lag"] == 0 for s in stores.values()):
            return data
        return None

    data = wait_for(caught_up, timeout=60, what="every relay to catch up")
    for service, store in data.items():
        if service == "processes" or not store["publishes"]:
            continue
        # the relay's position is how far it has read: its whole store, even one whose latest events
        # are internal (dangers holds only views of the registry's: it had shown "0, lag 0" by a head of 65)
        assert store["relay_read"] == store["head"], service

    def table_caught_up() -> str | None:
        # the table is read a moment later than the JSON: the hub may have stored more meanwhile (the
        # audit's checkpoints), so it is held to itself: every store read to its head, no lag
        table = run(hub, "status")
        for service in (s for s in data if s != "processes" and data[s]["publishes"]):
            row = re.search(rf"│ {service}\s+│\s+(\d+) │\s+(\d+) │\s+(\d+) │", table)
            assert row is not None, table
            if not (int(row[1]) == int(row[2]) and int(row[3]) == 0):
                return None
        return table

    table = wait_for(table_caught_up, timeout=60, what="the status table to show every store caught up")
    assert data["dangers"]["relay_position"] < data["dangers"]["head"]  # its events never leave it
    assert data["dangers"]["relay_read"] == data["dangers"]["head"] > 0
    hub_processes = [n for n, c in procfile().items() if "HUB_METRICS_PORT" in c]
    processes = data["processes"]
    assert len(processes) == len(hub_processes) == 17, (
        sorted(p["process"] for p in processes),
        sorted(hub_processes),
    )
    assert len({p["address"] for p in processes}) == 17
    assert all(p["answers"] for p in processes), processes
    assert "127.0.0.1:" in table and " NO " not in table
    # the console's read model is a consumer like the services': its upstreams, positions and lag
    console = data["console"]
    assert not console["publishes"] and set(console["consumers"]) == set(topology.upstreams_of("console"))
    assert all(c["consumers"] == 1 for c in console["consumers"].values()), console
    assert "console ← registry" in table and "│ console " not in table.split("Consumers")[0]


LISTINGS = [
    ("status",),
    ("departments", "list", "--all"),
    ("routing", "show"),
    ("enterprises", "list"),
    ("subscriptions", "list"),
    ("deliveries", "list"),
    ("deliveries", "parked"),
    ("parked", "list"),
    ("riskpoints", "imports"),
    ("notifications", "list"),
    ("notifications", "outbox"),
    ("platform", "inbox", "AJJ-TEZ"),
]


@pytest.mark.parametrize("listing", LISTINGS, ids=[" ".join(c) for c in LISTINGS])
def test_every_listing_fits_80_columns_and_has_json(hub: Hub, filer: Filer, listing: tuple[str, ...]) -> None:
    shown = run(hub, *listing)
    widest = max(cell_len(line) for line in shown.splitlines())
    assert widest <= 80, shown
    assert "…" not in shown  # nothing cut: wrapped, or left out and named under the table
    json.loads(run(hub, *listing, "--json"))


def test_names_are_shown_with_their_ids(hub: Hub, filer: Filer) -> None:
    shown = run(hub, "enterprises", "list", "--town", "张山子镇")
    assert filer.enterprise_id in shown
    inbox = run(hub, "platform", "inbox", "AJJ-TEZ")
    received = as_json(hub, "platform", "inbox", "AJJ-TEZ")
    assert received and all(r["uscc"] in inbox for r in received)
