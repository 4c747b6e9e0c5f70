"""The durable event log in PostgreSQL, one log for every API replica.

The same promise as the SQLite log (events.log): `record` returns only after the insert is
committed (autocommit, `synchronous_commit` on), so a 201 means the event is on the
database's disk. Connections come from a pool; a failed insert or a pool that cannot hand out
a connection is EventLogUnavailable, a 503. The schema is created or migrated at start, under
an advisory lock, so replicas starting together apply each step once.
"""

from __future__ import annotations

import logging
import time

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from core.log_ids import log_id
from events.log import EventLogUnavailable, EventQueries, Exposure, LogHealth, StoredEvent

log = logging.getLogger("longtail.api")

# Each step runs once, in order; append new steps, never edit applied ones.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE events (
        id BIGSERIAL PRIMARY KEY,
        received_at DOUBLE PRECISION NOT NULL,
        session_id TEXT NOT NULL,
        item_id TEXT NOT NULL,
        event TEXT NOT NULL CHECK (event IN ('view', 'cart', 'purchase')),
        source TEXT NOT NULL DEFAULT 'api'
    );
    CREATE TABLE health_probe (id INTEGER PRIMARY KEY, at DOUBLE PRECISION NOT NULL);
    """,
    "CREATE INDEX events_by_session ON events (session_id, id);",
    """
    ALTER TABLE events ADD COLUMN user_id TEXT;
    CREATE INDEX events_by_user ON events (user_id, id);
    CREATE TABLE exposures (
        id BIGSERIAL PRIMARY KEY,
        shown_at DOUBLE PRECISION NOT NULL,
        experiment TEXT NOT NULL,
        variant TEXT NOT NULL,
        unit TEXT NOT NULL,
        item_id TEXT NOT NULL,
        rank INTEGER NOT NULL
    );
    CREATE INDEX exposures_by_experiment ON exposures (experiment, unit);
    """,
)
_MIGRATION_LOCK = 0x6C6F6E67  # "long": the advisory lock key of schema changes


def migrate(conn: psycopg.Connection) -> int:
    """Apply the steps this database lacks; returns its schema version."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS longtail_schema (version INTEGER NOT NULL)")
        row = conn.execute("SELECT version FROM longtail_schema").fetchone()
        version = row[0] if row else 0
        if row is None:
            conn.execute("INSERT INTO longtail_schema (version) VALUES (0)")
        for step in MIGRATIONS[version:]:
            conn.execute(step)
        conn.execute("UPDATE longtail_schema SET version = %s", (len(MIGRATIONS),))
    return len(MIGRATIONS)


class PostgresEventLog(EventQueries):
    placeholder = "%s"

    def __init__(self, dsn: str, pool_size: int = 4, wait_s: float = 10.0) -> None:
        self.dsn = dsn
        self.wait_s = wait_s
        self._last_failure = ""
        try:
            with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
                self.version = migrate(conn)
        except psycopg.Error as exc:
            raise EventLogUnavailable(f"PostgreSQL event log at {_where(dsn)}: {exc}") from None
        self.pool = ConnectionPool(
            dsn,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True, "connect_timeout": 10},
            open=True,
            name="longtail-events",
        )

    def record(
        self,
        session_id: str,
        item_id: str,
        event: str,
        source: str = "api",
        user_id: str | None = None,
    ) -> int:
        """Append one event; returns its id only once it is committed (the acknowledgement)."""
        try:
            with self.pool.connection(timeout=self.wait_s) as conn:
                row = conn.execute(
                    "INSERT INTO events (received_at, session_id, item_id, event, source, "
                    "user_id) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                    (time.time(), session_id, item_id, event, source, user_id),
                ).fetchone()
            self._last_failure = ""
            return int(row[0]) if row else 0
        except (psycopg.Error, PoolTimeout) as exc:
            self._last_failure = str(exc)
            who = log_id(session_id)
            log.error("event log %s cannot store an event of %s: %s", _where(self.dsn), who, exc)
            raise EventLogUnavailable(
                "the event could not be stored (event log unavailable); retry later"
            ) from None

    def count(self) -> int:
        with self.pool.connection(timeout=self.wait_s) as conn:
            row = conn.execute("SELECT COUNT(*) FROM events").fetchone()
        return int(row[0]) if row else 0

    def delete_user(self, user_id: str) -> int:
        """Erase the shopper's events and exposures in one transaction; how many events went."""
        with self.pool.connection(timeout=self.wait_s) as conn, conn.transaction():
            gone = conn.execute("DELETE FROM events WHERE user_id = %s", (user_id,)).rowcount
            conn.execute("DELETE FROM exposures WHERE unit = %s", (user_id,))
        return int(gone)

    def record_exposures(
        self, experiment: str, variant: str, unit: str, item_ids: list[str]
    ) -> None:
        now = time.time()
        rows = [(now, experiment, variant, unit, i, r) for r, i in enumerate(item_ids, 1)]
        try:
            with (
                self.pool.connection(timeout=self.wait_s) as conn,
                conn.transaction(),
                conn.cursor() as cursor,
            ):
                cursor.executemany(
                    "INSERT INTO exposures (shown_at, experiment, variant, unit, item_id, "
                    "rank) VALUES (%s, %s, %s, %s, %s, %s)",
                    rows,
                )
        except (psycopg.Error, PoolTimeout) as exc:
            raise EventLogUnavailable(f"exposures could not be stored: {exc}") from None

    def exposures(self, experiment: str) -> list[Exposure]:
        with self.pool.connection(timeout=self.wait_s) as conn:
            rows = conn.execute(
                "SELECT shown_at, experiment, variant, unit, item_id, rank FROM exposures "
                "WHERE experiment = %s ORDER BY id",
                (experiment,),
            ).fetchall()
        return [Exposure(*row) for row in rows]

    def _events(self, sql: str, args: tuple[object, ...]) -> list[StoredEvent]:
        with self.pool.connection(timeout=self.wait_s) as conn:
            rows = conn.execute(sql, args).fetchall()
        return [StoredEvent(*row) for row in rows]

    def health(self, min_free_mb: float) -> LogHealth:
        """A committed probe row. The database's disk is its host's to watch (free_mb None):
        `min_free_mb` applies to the SQLite log only."""
        if self._last_failure:
            failed = f"the last event write failed: {self._last_failure}"
            return LogHealth(False, None, min_free_mb, failed)
        try:
            with self.pool.connection(timeout=self.wait_s) as conn:
                conn.execute(
                    "INSERT INTO health_probe (id, at) VALUES (1, %s) "
                    "ON CONFLICT (id) DO UPDATE SET at = EXCLUDED.at",
                    (time.time(),),
                )
        except (psycopg.Error, PoolTimeout) as exc:
            return LogHealth(False, None, min_free_mb, f"write probe failed: {exc}")
        return LogHealth(True, None, min_free_mb, "")

    def close(self) -> None:
        self.pool.close()


def _where(dsn: str) -> str:
    """The DSN without a password, for messages."""
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    return " ".join(f"{k}={v}" for k, v in info.items() if k != "password")
