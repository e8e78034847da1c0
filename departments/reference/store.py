"""What a reference department platform has received, in its own SQLite file."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    delivery_id TEXT PRIMARY KEY,
    department_code TEXT NOT NULL,
    enterprise_id TEXT NOT NULL,
    uscc TEXT NOT NULL,
    enterprise_name TEXT NOT NULL,
    version INTEGER NOT NULL,
    document_hash TEXT NOT NULL,
    canonical_document BLOB NOT NULL,
    signatures TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL,
    received_at TEXT NOT NULL,
    times_delivered INTEGER NOT NULL DEFAULT 1
);
"""


class Inbox:
    """Deliveries by delivery id: a repeated delivery is counted, never stored twice."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def seen(self, delivery_id: str) -> dict[str, Any] | None:
        """The answer already given to this delivery (and counts the repeat), or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT outcome, reason, received_at FROM deliveries WHERE delivery_id = ?", (delivery_id,)
            ).fetchone()
            if row is None:
                return None
            self._db.execute(
                "UPDATE deliveries SET times_delivered = times_delivered + 1 WHERE delivery_id = ?",
                (delivery_id,),
            )
        return {"outcome": row[0], "reason": row[1], "received_at": row[2]}

    def store(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO deliveries (delivery_id, department_code, enterprise_id, uscc,"
                " enterprise_name, version, document_hash, canonical_document, signatures, outcome,"
                " reason, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record["delivery_id"],
                    record["department_code"],
                    record["enterprise_id"],
                    record["uscc"],
                    record["enterprise_name"],
                    record["version"],
                    record["document_hash"],
                    record["canonical_document"],
                    json.dumps(record["signatures"]),
                    record["outcome"],
                    record["reason"],
                    record["received_at"],
                ),
            )

    def all(self) -> list[dict[str, Any]]:
        cursor = self._db.execute(
            "SELECT delivery_id, enterprise_name, uscc, version, outcome, reason, received_at,"
            " times_delivered, document_hash FROM deliveries ORDER BY received_at"
        )
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def close(self) -> None:
        self._db.close()


def read_inbox(path: Path) -> list[dict[str, Any]]:
    """Reads a platform's deliveries from outside the platform (hubctl, tests)."""
    if not path.exists():
        return []
    inbox = Inbox(path)
    try:
        return inbox.all()
    finally:
        inbox.close()
