"""The durable event log: every acknowledged view, cart or purchase survives a kill -9.

SQLite in WAL mode with synchronous=FULL: each insert is committed (and the WAL fsynced)
before `record` returns, so the API answers 2xx only for events already on disk. One
connection behind a lock keeps writes ordered and the code simple; SQLite serialises writers
anyway. An insert that fails (a full disk, a file-size limit, an I/O error) raises
EventLogUnavailable, a 503: an event is never acknowledged unless it is stored. `health`
proves the log can still write (a committed probe row) and that its disk keeps free space.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol

from core.errors import ServiceUnavailable
from core.log_ids import log_id

log = logging.getLogger("longtail.api")

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at REAL NOT NULL,
    session_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('view', 'cart', 'purchase')),
    source TEXT NOT NULL DEFAULT 'api'
);
CREATE TABLE IF NOT EXISTS health_probe (id INTEGER PRIMARY KEY, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS exposures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    shown_at REAL NOT NULL,
    experiment TEXT NOT NULL,
    variant TEXT NOT NULL,
    unit TEXT NOT NULL,
    item_id TEXT NOT NULL,
    rank INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS exposures_by_experiment ON exposures (experiment, unit);
"""
# Added after the first release: applied to logs that lack them.
COLUMNS = {"user_id": "ALTER TABLE events ADD COLUMN user_id TEXT"}
INDEXES = "CREATE INDEX IF NOT EXISTS events_by_user ON events (user_id, id)"
_SELECT = "SELECT id, received_at, session_id, item_id, event, source, user_id FROM events"


class EventLogUnavailable(ServiceUnavailable):
    """The event log cannot store events now (disk full, I/O error)."""


@dataclass(frozen=True)
class LogHealth:
    writable: bool
    free_mb: float | None  # None where the log's disk is another host's (PostgreSQL)
    min_free_mb: float
    problem: str  # empty when healthy

    @property
    def ok(self) -> bool:
        return not self.problem


@dataclass(frozen=True)
class StoredEvent:
    id: int
    received_at: float
    session_id: str
    item_id: str
    event: str
    source: str
    user_id: str | None = None  # the pseudonymous shopper, when the client named one


@dataclass(frozen=True)
class Exposure:
    """One item an experiment's variant showed a unit (shopper or session) at a rank."""

    shown_at: float
    experiment: str
    variant: str
    unit: str
    item_id: str
    rank: int


class EventStore(Protocol):
    """What the API needs of an event log: SQLite here, PostgreSQL in events.postgres."""

    def record(
        self,
        session_id: str,
        item_id: str,
        event: str,
        source: str = "api",
        user_id: str | None = None,
    ) -> int: ...

    def count(self) -> int: ...

    def for_session(self, session_id: str) -> list[StoredEvent]: ...

    def for_user(self, user_id: str) -> list[StoredEvent]: ...

    def delete_user(self, user_id: str) -> int: ...

    def read(self, after_id: int = 0) -> list[StoredEvent]: ...

    def record_exposures(
        self, experiment: str, variant: str, unit: str, item_ids: list[str]
    ) -> None: ...

    def exposures(self, experiment: str) -> list[Exposure]: ...

    def health(self, min_free_mb: float) -> LogHealth: ...

    def close(self) -> None: ...


class EventQueries:
    """The event reads both logs share; each names its driver's parameter placeholder and
    how it runs a SELECT (`_events`)."""

    placeholder: ClassVar[str]

    def _events(self, sql: str, args: tuple[object, ...]) -> list[StoredEvent]:
        raise NotImplementedError

    def _where(self, condition: str, value: object) -> list[StoredEvent]:
        sql = f"{_SELECT} WHERE {condition} {self.placeholder} ORDER BY id"
        return self._events(sql, (value,))

    def for_session(self, session_id: str) -> list[StoredEvent]:
        return self._where("session_id =", session_id)

    def for_user(self, user_id: str) -> list[StoredEvent]:
        """The shopper's events, oldest first (every session they named themselves in)."""
        return self._where("user_id =", user_id)

    def read(self, after_id: int = 0) -> list[StoredEvent]:
        """Every event after `after_id`, oldest first: what `train --with-events` learns from."""
        return self._where("id >", after_id)


class EventLog(EventQueries):
    placeholder = "?"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        have = {row[1] for row in self._db.execute("PRAGMA table_info(events)")}
        for column, step in COLUMNS.items():
            if column not in have:
                self._db.execute(step)
        self._db.execute(INDEXES)
        self._last_failure = ""  # why the newest event write failed; empty once one succeeds

    def record(
        self,
        session_id: str,
        item_id: str,
        event: str,
        source: str = "api",
        user_id: str | None = None,
    ) -> int:
        """Append one event and commit it; returns its id (the acknowledgement)."""
        try:
            with self._lock:
                cursor = self._db.execute(
                    "INSERT INTO events (received_at, session_id, item_id, event, source, "
                    "user_id) VALUES (?, ?, ?, ?, ?, ?)",
                    (time.time(), session_id, item_id, event, source, user_id),
                )
                self._last_failure = ""
                return int(cursor.lastrowid or 0)
        except sqlite3.Error as exc:
            self._last_failure = str(exc)
            who = log_id(session_id)
            log.error("event log %s cannot store an event of session %s: %s", self.path, who, exc)
            raise EventLogUnavailable(
                "the event could not be stored (event log unavailable); retry later"
            ) from None

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def delete_user(self, user_id: str) -> int:
        """Erase the shopper's events and exposures (committed); how many events went."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM events WHERE user_id = ?", (user_id,))
            self._db.execute("DELETE FROM exposures WHERE unit = ?", (user_id,))
        return int(cursor.rowcount)

    def record_exposures(
        self, experiment: str, variant: str, unit: str, item_ids: list[str]
    ) -> None:
        """What a variant showed, ranks from 1, in one committed transaction."""
        now = time.time()
        rows = [(now, experiment, variant, unit, i, r) for r, i in enumerate(item_ids, 1)]
        try:
            with self._lock:
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT INTO exposures (shown_at, experiment, variant, unit, item_id, rank) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
                self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            with suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise EventLogUnavailable(f"exposures could not be stored: {exc}") from None

    def exposures(self, experiment: str) -> list[Exposure]:
        with self._lock:
            rows = self._db.execute(
                "SELECT shown_at, experiment, variant, unit, item_id, rank FROM exposures "
                "WHERE experiment = ? ORDER BY id",
                (experiment,),
            ).fetchall()
        return [Exposure(*row) for row in rows]

    def _events(self, sql: str, args: tuple[object, ...]) -> list[StoredEvent]:
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [StoredEvent(*row) for row in rows]

    def health(self, min_free_mb: float) -> LogHealth:
        """Can the log write right now (a committed probe row, and the newest event write did
        not fail: an event needs more room than the probe), with `min_free_mb` to spare?"""
        free_mb = shutil.disk_usage(self.path.parent).free / 1e6
        if self._last_failure:
            failed = f"the last event write failed: {self._last_failure}"
            return LogHealth(False, free_mb, min_free_mb, failed)
        try:
            with self._lock:
                self._db.execute(
                    "INSERT OR REPLACE INTO health_probe (id, at) VALUES (1, ?)", (time.time(),)
                )
        except sqlite3.Error as exc:
            return LogHealth(False, free_mb, min_free_mb, f"write probe failed: {exc}")
        if free_mb < min_free_mb:
            low = f"{free_mb:.0f} MB free on the event log's disk, under {min_free_mb:.0f} MB"
            return LogHealth(True, free_mb, min_free_mb, low)
        return LogHealth(True, free_mb, min_free_mb, "")

    def close(self) -> None:
        with self._lock:
            self._db.close()
