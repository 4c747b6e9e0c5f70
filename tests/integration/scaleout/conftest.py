"""One real redis-server and one real PostgreSQL per test session, on loopback; a missing
server binary skips its tests and says which package to install."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.cluster import MissingServer, PostgresServer, RedisServer


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    try:
        server = RedisServer(tmp_path_factory.mktemp("redis"))
    except MissingServer as exc:
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer()
    except MissingServer as exc:
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()
