"""The durable event log: every acknowledged view, cart or purchase survives a kill -9.

SQLite in WAL mode with synchronous=FULL: each insert is committed (and the WAL fsynced)
before `record` returns, so the API answers 2xx only for events already on disk. One
connection behind a lock keeps writes ordered and the code simple; SQLite serialises writers
anyway.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at REAL NOT NULL,
    session_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('view', 'cart', 'purchase')),
    source TEXT NOT NULL DEFAULT 'api'
)
"""


@dataclass(frozen=True)
class StoredEvent:
    id: int
    received_at: float
    session_id: str
    item_id: str
    event: str
    source: str


class EventLog:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(SCHEMA)

    def record(self, session_id: str, item_id: str, event: str, source: str = "api") -> int:
        """Append one event and commit it; returns its id (the acknowledgement)."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO events (received_at, session_id, item_id, event, source) "
                "VALUES (?, ?, ?, ?, ?)",
                (time.time(), session_id, item_id, event, source),
            )
            return int(cursor.lastrowid or 0)

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def for_session(self, session_id: str) -> list[StoredEvent]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, received_at, session_id, item_id, event, source FROM events "
                "WHERE session_id = ? ORDER BY id",
                (session_id,),
            ).fetchall()
        return [StoredEvent(*row) for row in rows]

    def ping(self) -> bool:
        try:
            with self._lock:
                self._db.execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def close(self) -> None:
        with self._lock:
            self._db.close()
