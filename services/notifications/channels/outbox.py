"""The local outbox: a SQLite table of every message the hub's default adapters "sent".

One row per notification id (INSERT OR IGNORE), so a send repeated after a crash delivers once, as
real SMS gateways do with a client message id. `hubctl notifications outbox` and the tests read it.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.backbone.settings import Settings

OutboxError = (OSError, sqlite3.Error)  # what writing to the outbox can raise

SCHEMA = """CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    address TEXT NOT NULL,
    name TEXT NOT NULL,
    text TEXT NOT NULL,
    enterprise_id TEXT NOT NULL,
    sent_at TEXT NOT NULL
)"""
COLUMNS = ("seq", "message_id", "channel", "kind", "address", "name", "text", "enterprise_id", "sent_at")
INSERT = f"INSERT OR IGNORE INTO outbox ({', '.join(COLUMNS[1:])}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


class Outbox:
    """Messages written instead of sent, under HUB_RUNTIME_DIR/outbox/."""

    def __init__(self, directory: Path, namespace: str = "") -> None:
        self.directory = directory
        self.path = directory / f"{namespace}outbox.sqlite"
        self._writer = threading.local()  # the sender's connection, kept: one open per message cost more

    @classmethod
    def of(cls, settings: Settings) -> Outbox:
        return cls(settings.runtime_dir / "outbox", settings.namespace)

    def _connect(self) -> sqlite3.Connection:
        self.directory.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30)
        conn.execute(SCHEMA)
        return conn

    def put(
        self, channel: str, message_id: str, kind: str, address: str, name: str, text: str, enterprise_id: str
    ) -> str:
        """Writes the message once; returns its receipt (the outbox sequence number)."""
        sent_at = datetime.now(UTC).isoformat()
        conn = getattr(self._writer, "conn", None)
        if conn is None:
            conn = self._writer.conn = self._connect()
        try:
            with conn:  # one transaction per message: written when put() returns
                conn.execute(
                    INSERT,
                    (message_id, channel, kind, address, name, text, enterprise_id, sent_at),
                )
                row = conn.execute("SELECT seq FROM outbox WHERE message_id = ?", (message_id,)).fetchone()
        except sqlite3.Error:
            self._writer.conn = None  # the next message opens the outbox afresh
            conn.close()
            raise
        return f"outbox:{row[0]}"

    def read(self, channel: str = "", address: str = "") -> list[dict[str, Any]]:
        """Every message written, oldest first (of one channel, to one address, when given)."""
        if not self.path.exists():
            return []
        query, args = f"SELECT {', '.join(COLUMNS)} FROM outbox WHERE 1 = 1", list[str]()
        if channel:
            query, args = query + " AND channel = ?", [*args, channel]
        if address:
            query, args = query + " AND address = ?", [*args, address]
        with closing(self._connect()) as conn:
            rows = conn.execute(query + " ORDER BY seq", args).fetchall()
        return [dict(zip(COLUMNS, row, strict=True)) for row in rows]
