"""The event log in a real PostgreSQL: committed before it answers, one log for every
replica, its schema created and migrated at start, failures a clear 503."""

from __future__ import annotations

import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from bench.cluster import MissingServer, PostgresServer, binary
from events.log import EventLogUnavailable
from events.postgres import MIGRATIONS, PostgresEventLog, migrate

pytestmark = pytest.mark.scaleout


def _fresh(server: PostgresServer) -> str:
    return server.new_database(f"t_{uuid.uuid4().hex[:10]}")


def test_replicas_append_to_one_log_and_read_committed_events(postgres_server) -> None:
    dsn = _fresh(postgres_server)
    logs = [PostgresEventLog(dsn, pool_size=2) for _ in range(2)]  # two replicas
    try:
        with ThreadPoolExecutor(6) as pool:
            ids = list(pool.map(lambda i: logs[i % 2].record("s1", f"item-{i}", "view"), range(40)))
        assert len(set(ids)) == 40
        with psycopg.connect(dsn) as conn:  # another connection sees every acknowledged row
            stored = {r[0] for r in conn.execute("SELECT id FROM events WHERE session_id='s1'")}
        assert stored == set(ids)
        mine = logs[1].for_session("s1")
        assert [e.id for e in mine] == sorted(ids) and logs[0].count() == 40
        assert {e.item_id for e in mine} == {f"item-{i}" for i in range(40)}
        assert logs[0].health(64.0).ok
    finally:
        for log in logs:
            log.close()


def test_an_older_schema_is_migrated_at_start(postgres_server) -> None:
    dsn = _fresh(postgres_server)
    with psycopg.connect(dsn, autocommit=True) as conn:  # a database at schema version 1
        conn.execute("CREATE TABLE longtail_schema (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO longtail_schema VALUES (1)")
        conn.execute(MIGRATIONS[0])
        conn.execute(
            "INSERT INTO events (received_at, session_id, item_id, event) "
            "VALUES (1.0, 'old', 'i', 'cart')"
        )
    log = PostgresEventLog(dsn)
    try:
        assert log.version == len(MIGRATIONS) == 3
        with psycopg.connect(dsn) as conn:
            indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes")}
            assert {"events_by_session", "events_by_user"} <= indexes
            assert migrate(conn) == 3  # a second start changes nothing
        assert [e.event for e in log.for_session("old")] == ["cart"]  # old rows kept
    finally:
        log.close()


def test_a_write_the_database_refuses_is_a_503_and_health_says_why(postgres_server) -> None:
    dsn = _fresh(postgres_server)
    log = PostgresEventLog(dsn)
    try:
        log.record("s", "fine", "view")
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("ALTER TABLE events ADD CONSTRAINT no_more CHECK (item_id = 'fine')")
        with pytest.raises(EventLogUnavailable, match="retry later"):
            log.record("s", "refused", "view")
        health = log.health(64.0)
        assert not health.ok and "no_more" in health.problem and health.free_mb is None
        assert log.count() == 1  # nothing half-stored
    finally:
        log.close()


def test_an_unreachable_database_names_it_without_its_password() -> None:
    with pytest.raises(EventLogUnavailable, match=r"host=127\.0\.0\.1") as err:
        PostgresEventLog("postgresql://someone:secret@127.0.0.1:1/none")
    assert "secret" not in str(err.value)


def test_the_documented_backup_restores_into_a_working_log(postgres_server, tmp_path) -> None:
    """docs/operations.md: pg_dump of the log's database, pg_restore into an empty one."""
    pg_glob = "/usr/lib/postgresql/*/bin/"
    try:
        dump = binary("pg_dump", "postgresql-client", pg_glob + "pg_dump")
        restore = binary("pg_restore", "postgresql-client", pg_glob + "pg_restore")
    except MissingServer as exc:
        pytest.skip(str(exc))
    dsn = _fresh(postgres_server)
    log = PostgresEventLog(dsn)
    ids = [log.record("s", f"i{n}", "purchase") for n in range(5)]
    log.close()
    backup = tmp_path / "events.dump"
    with backup.open("wb") as out:
        subprocess.run([dump, "--format=custom", dsn], stdout=out, check=True)
    restored_dsn = _fresh(postgres_server)
    subprocess.run([restore, f"--dbname={restored_dsn}", str(backup)], check=True)
    restored = PostgresEventLog(restored_dsn)
    try:
        assert [(e.id, e.item_id) for e in restored.for_session("s")] == [
            (i, f"i{n}") for n, i in enumerate(ids)
        ]
        assert restored.record("s", "after", "view") > max(ids)  # the id sequence came along
        assert restored.health(64.0).ok
    finally:
        restored.close()


def test_shoppers_and_exposures_in_postgres(postgres_server) -> None:
    """user_id, deleting a shopper and experiment exposures: the SQLite log's contract."""
    log = PostgresEventLog(_fresh(postgres_server))
    try:
        log.record("s1", "a", "view", user_id="u1")
        log.record("s2", "b", "purchase", user_id="u1")
        log.record("s3", "c", "view", user_id="u2")
        log.record("s4", "d", "view")
        log.record_exposures("exp", "tail", "u1", ["a", "b"])
        log.record_exposures("exp", "control", "u2", ["c"])
        assert [(e.item_id, e.event) for e in log.for_user("u1")] == [
            ("a", "view"),
            ("b", "purchase"),
        ]
        assert [e.user_id for e in log.read()] == ["u1", "u1", "u2", None]
        assert [(x.unit, x.item_id, x.rank) for x in log.exposures("exp")] == [
            ("u1", "a", 1),
            ("u1", "b", 2),
            ("u2", "c", 1),
        ]
        assert log.delete_user("u1") == 2
        assert log.for_user("u1") == [] and len(log.for_user("u2")) == 1
        assert [x.unit for x in log.exposures("exp")] == ["u2"]
    finally:
        log.close()
