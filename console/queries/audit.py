"""What an auditor reads from the read model: each store's signed tree heads (as the console received
them), an enterprise's events as the stores numbered them, the register versions, and the console's
verification runs."""

from __future__ import annotations

import json
from typing import Any

from console.queries.scope import Page
from services.kernel.tree_heads import fingerprint

STORES = ("registry", "riskpoints", "dangers", "filing", "notifications")
TIMELINE_PAGE = 100
Ranges = dict[str, list[tuple[int, int]]]  # store → the (first, last) notification ids of findings


def chain_state(app: Any) -> list[dict[str, Any]]:
    """Per store: its latest signed tree head and how many heads it has signed (sequences are dense
    from 0, so the latest's sequence + 1, even when the console received only the latest)."""
    latest = {r["store"]: _head(r) for r in latest_heads(app)}
    received = {
        r["store"]: int(r["n"])
        for r in app.query("SELECT store, count(*) AS n FROM @tree_heads GROUP BY store")
    }
    stores = list(dict.fromkeys([*STORES, *latest]))
    return [
        {
            "store": s,
            "latest": latest.get(s),
            "heads": latest[s]["sequence"] + 1 if s in latest else 0,
            "received": received.get(s, 0),
        }
        for s in stores
    ]


def latest_heads(app: Any) -> list[dict[str, Any]]:
    """Each store's latest head the console holds, with its signature: the anchors it verifies with."""
    return app.query(
        "SELECT h.* FROM @tree_heads h WHERE h.sequence = (SELECT max(l.sequence) FROM @tree_heads l "
        "WHERE l.store = h.store) ORDER BY h.store"
    )


def heads(app: Any, limit: int = 20) -> list[dict[str, Any]]:
    """The heads the console received last, newest first."""
    rows = app.query(
        "SELECT * FROM @tree_heads ORDER BY signed_at DESC, store, sequence DESC LIMIT %(limit)s",
        {"limit": limit},
    )
    return [_head(r) for r in rows]


def _head(row: dict[str, Any]) -> dict[str, Any]:
    row["key"] = _fingerprint(row.get("public_key", ""))
    return row


def _fingerprint(public_key: str) -> str:
    try:
        return fingerprint(public_key) if public_key else ""
    except ValueError:
        return ""


def signed_positions(app: Any) -> dict[str, int]:
    """Per store, the last notification id a signed head covers (its tree's last leaf)."""
    return {
        r["store"]: int(r["p"])
        for r in app.query("SELECT store, max(position) AS p FROM @tree_heads GROUP BY store")
    }


def search(app: Any, q: str, limit: int = 50) -> list[dict[str, Any]]:
    """Enterprises by name (a part of it) or credit code, across the whole hub."""
    pattern = "%" + q.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"
    return app.query(
        "SELECT id, name, uscc, town, status FROM @enterprises WHERE registered_at <> '' AND "
        "(name LIKE %(q)s ESCAPE '!' OR uscc = %(uscc)s OR id = %(id)s) ORDER BY name LIMIT %(limit)s",
        {"q": pattern, "uscc": q.upper(), "id": q.lower(), "limit": limit},
    )


def timeline(app: Any, enterprise_id: str, number: int, findings: Ranges) -> Page:
    """The enterprise's events in time order, each with whether a signed tree head covers it (its
    notification id at or below the last one the head's tree holds) and whether the last
    verification run found it altered, removed or inserted."""
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
        nid = int(row["notification_id"])
        if any(first <= nid <= last for first, last in findings.get(row["upstream"], ())):
            row["chain"] = "altered"
        elif nid <= signed.get(row["upstream"], 0):
            row["chain"] = "signed"
        else:
            row["chain"] = "unsigned"
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


def findings_of(last: dict[str, Any] | None) -> Ranges:
    """The events the run's findings name, per store: one event, or a range (first to last id)."""
    found: Ranges = {}
    for store in (last or {}).get("report", {}).get("stores", []):
        for f in store.get("findings", []):
            first = int(f.get("notification_id") or 0)
            if first > 0:
                last_id = max(first, int(f.get("last_id") or 0))
                found.setdefault(store["service"], []).append((first, last_id))
    return found
