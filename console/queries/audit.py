"""What an auditor reads from the read model: each store's signed checkpoints (anchors), an enterprise's
events as the stores numbered them, the register versions, and the console's verification runs."""

from __future__ import annotations

import json
from typing import Any

from console.queries.scope import Page

STORES = ("registry", "riskpoints", "dangers", "filing", "notifications")
TIMELINE_PAGE = 100


def chain_state(app: Any) -> list[dict[str, Any]]:
    """Per store: its latest signed checkpoint and how many it has signed."""
    latest = {
        r["store"]: r
        for r in app.query(
            "SELECT a.* FROM @anchors a WHERE a.sequence = (SELECT max(b.sequence) FROM @anchors b "
            "WHERE b.store = a.store)"
        )
    }
    counts = {
        r["store"]: r["n"] for r in app.query("SELECT store, count(*) AS n FROM @anchors GROUP BY store")
    }
    stores = list(dict.fromkeys([*STORES, *latest]))
    return [{"store": s, "latest": latest.get(s), "checkpoints": counts.get(s, 0)} for s in stores]


def anchors(app: Any, store: str, limit: int = 20) -> list[dict[str, Any]]:
    return app.query(
        "SELECT * FROM @anchors WHERE store = %(store)s ORDER BY sequence DESC LIMIT %(limit)s",
        {"store": store, "limit": limit},
    )


def signed_positions(app: Any) -> dict[str, int]:
    return {
        r["store"]: int(r["p"])
        for r in app.query("SELECT store, max(position) AS p FROM @anchors GROUP BY store")
    }


def search(app: Any, q: str, limit: int = 50) -> list[dict[str, Any]]:
    """Enterprises by name (a part of it) or credit code, across the whole hub."""
    pattern = "%" + q.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"
    return app.query(
        "SELECT id, name, uscc, town, status FROM @enterprises WHERE registered_at <> '' AND "
        "(name LIKE %(q)s ESCAPE '!' OR uscc = %(uscc)s OR id = %(id)s) ORDER BY name LIMIT %(limit)s",
        {"q": pattern, "uscc": q.upper(), "id": q.lower(), "limit": limit},
    )


def timeline(app: Any, enterprise_id: str, number: int, findings: set[tuple[str, int]]) -> Page:
    """The enterprise's events in time order, each with its chain status against the signed checkpoints
    (and the last verification run's findings)."""
    params = {"id": enterprise_id}
    total = app.query("SELECT count(*) AS n FROM @events WHERE enterprise_id = %(id)s", params)[0]["n"]
    number = min(number, max(1, -(-total // TIMELINE_PAGE)))
    rows = app.query(
        "SELECT * FROM @events WHERE enterprise_id = %(id)s ORDER BY occurred_at, upstream, notification_id "
        "LIMIT %(limit)s OFFSET %(offset)s",
        {**params, "limit": TIMELINE_PAGE, "offset": (number - 1) * TIMELINE_PAGE},
    )
    signed = signed_positions(app)
    for row in rows:
        key = (row["upstream"], int(row["notification_id"]))
        if key in findings:
            row["chain"] = "altered"
        elif row["notification_id"] <= signed.get(row["upstream"], 0):
            row["chain"] = "signed"
        else:
            row["chain"] = "unchained"
    return Page(rows, total, number, TIMELINE_PAGE)


def versions(app: Any, enterprise_id: str) -> list[dict[str, Any]]:
    return app.query(
        "SELECT * FROM @filings WHERE enterprise_id = %(id)s ORDER BY version", {"id": enterprise_id}
    )


def version_at(app: Any, enterprise_id: str, moment: str) -> dict[str, Any] | None:
    """The register version in force at a moment (UTC text): the latest compiled by then."""
    rows = app.query(
        "SELECT * FROM @filings WHERE enterprise_id = %(id)s AND compiled_at <> '' AND compiled_at <= %(at)s "
        "ORDER BY version DESC LIMIT 1",
        {"id": enterprise_id, "at": moment},
    )
    return rows[0] if rows else None


# -- verification runs (the console's own records) ----------------------------------------------
def runs(app: Any, limit: int = 50) -> list[dict[str, Any]]:
    rows = app.query(
        "SELECT * FROM @verifications ORDER BY started_at DESC LIMIT %(limit)s", {"limit": limit}
    )
    return [_run(r) for r in rows]


def run(app: Any, run_id: str) -> dict[str, Any] | None:
    rows = app.query("SELECT * FROM @verifications WHERE id = %(id)s", {"id": run_id})
    return _run(rows[0]) if rows else None


def last_finished(app: Any) -> dict[str, Any] | None:
    rows = app.query(
        "SELECT * FROM @verifications WHERE outcome IN ('ok', 'failed') ORDER BY finished_at DESC LIMIT 1"
    )
    return _run(rows[0]) if rows else None


def _run(row: dict[str, Any]) -> dict[str, Any]:
    row["report"] = json.loads(row["report"]) if row["report"] else {}
    return row


def findings_of(last: dict[str, Any] | None) -> set[tuple[str, int]]:
    if not last:
        return set()
    return {
        (store["service"], int(f["notification_id"]))
        for store in last["report"].get("stores", [])
        for f in store.get("findings", [])
    }
