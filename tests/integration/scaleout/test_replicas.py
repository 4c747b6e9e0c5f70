"""Two `longtail serve` replicas behind nginx round robin, sharing a real Redis, PostgreSQL
and Chroma server: a conversation whose turns alternate replicas keeps its constraints, and
after one replica is killed with SIGKILL mid-conversation no acknowledged event is missing
and the conversation goes on on the other one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import httpx
import psycopg
import pytest
import redis

from bench.cluster import ChromaServer, MissingServer, Nginx, Replica, shared_env
from runtime.session_codec import decode

pytestmark = [pytest.mark.slow, pytest.mark.scaleout, pytest.mark.chroma_server]

SMALL_DEMO = {"LONGTAIL_DEMO__ITEMS": "300", "LONGTAIL_DEMO__USERS": "100"}
ONE_CLIENT = {"LONGTAIL_API__EVENTS_BURST": "1000", "LONGTAIL_API__CHAT_BURST": "100"}


@dataclass
class Cluster:
    url: str
    replicas: list[Replica]
    redis_url: str
    postgres_dsn: str
    items: list[dict]


@pytest.fixture(scope="module")
def cluster(
    redis_server, postgres_server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("replicas")
    try:
        chroma = ChromaServer(root / "chroma")
    except MissingServer as exc:
        pytest.skip(str(exc))
    dsn = postgres_server.new_database(f"replicas_{uuid.uuid4().hex[:8]}")
    env = {
        "LONGTAIL_HOME": str(root / "home"),
        **SMALL_DEMO,
        **ONE_CLIENT,
        **shared_env(redis_server.url, dsn, chroma.port),
    }
    replicas: list[Replica] = []
    nginx = None
    try:
        prepared = subprocess.run(
            [sys.executable, "-m", "longtail", "demo", "--no-serve", "--json"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
        )
        assert prepared.returncode == 0, prepared.stderr[-2000:]
        demo_dir = Path(json.loads(prepared.stdout)["demo_dir"])
        items = [json.loads(line) for line in (demo_dir / "items.jsonl").open()]
        replicas = [Replica(env, root / f"replica{n}.log") for n in range(2)]
        for replica in replicas:
            replica.wait_ready()
        nginx = Nginx(root, [r.port for r in replicas])
        yield Cluster(nginx.url, replicas, redis_server.url, dsn, items)
    finally:
        if nginx is not None:
            nginx.stop()
        for replica in replicas:
            replica.stop()
        chroma.stop()


def _stored_session(cluster: Cluster, session_id: str):
    client = redis.Redis.from_url(cluster.redis_url)
    return decode(client.get(f"longtail:s:{session_id}"))


def _prices(cluster: Cluster, suggestions: list[dict]) -> list[float]:
    price = {item["item_id"]: item.get("price") for item in cluster.items}
    return [price[s["item_id"]] for s in suggestions]


def test_turns_alternating_replicas_keep_the_conversations_constraints(cluster: Cluster) -> None:
    with httpx.Client(base_url=cluster.url, timeout=300) as client:
        first = client.post("/v1/chat", json={"message": "a kitchen knife under $40"})
        assert first.status_code == 200, first.text
        sid = first.json()["session_id"]
        served = [first.headers["X-Upstream"]]
        shown = [s["item_id"] for s in first.json()["suggestions"]]
        for message in ("show me more", "any others?"):
            turn = client.post("/v1/chat", json={"message": message, "session_id": sid})
            assert turn.status_code == 200, turn.text
            served.append(turn.headers["X-Upstream"])
            suggestions = turn.json()["suggestions"]
            assert suggestions and all(
                p is not None and p <= 40 for p in _prices(cluster, suggestions)
            )
            assert not {s["item_id"] for s in suggestions} & set(shown)  # shown stays shown
            shown += [s["item_id"] for s in suggestions]
    assert all(a != b for a, b in pairwise(served)), served
    session = _stored_session(cluster, sid)
    assert session.constraints.max_price == 40 and session.turns == 3
    assert session.shown == shown


def test_a_replica_killed_mid_conversation_loses_no_acknowledged_event(cluster: Cluster) -> None:
    ids = [item["item_id"] for item in cluster.items]
    acknowledged: dict[int, str] = {}
    refused: list[int] = []
    killed = threading.Event()
    with httpx.Client(base_url=cluster.url, timeout=300) as client:
        start = client.post("/v1/chat", json={"message": "a kitchen knife under $40"})
        sid = start.json()["session_id"]

        def shopper() -> None:
            for n in range(60):
                if n == 20:
                    killed.wait()  # the rest go out once the replica is gone
                item = ids[n % len(ids)]
                answer = client.post(
                    "/v1/events", json={"session_id": sid, "item_id": item, "event": "view"}
                )
                if answer.status_code == 201:
                    acknowledged[answer.json()["id"]] = item
                else:
                    refused.append(answer.status_code)

        worker = threading.Thread(target=shopper)
        worker.start()
        while len(acknowledged) < 10:  # mid-stream: events are flowing to both replicas
            threading.Event().wait(0.05)
        cluster.replicas[0].kill()
        killed.set()
        worker.join()
        after = client.post("/v1/chat", json={"message": "show me more", "session_id": sid})
    assert cluster.replicas[0].process.returncode == -9
    assert len(acknowledged) >= 55, (len(acknowledged), refused)  # at most a few in flight
    assert set(refused) <= {502}, refused  # lost only by the dying replica, never acked
    with psycopg.connect(cluster.postgres_dsn) as conn:
        rows = conn.execute(
            "SELECT id, item_id FROM events WHERE session_id = %s", (sid,)
        ).fetchall()
    stored = dict(rows)
    assert {i: stored.get(i) for i in acknowledged} == acknowledged  # every acked event kept
    assert after.status_code == 200, after.text
    assert after.headers["X-Upstream"].endswith(f":{cluster.replicas[1].port}")
    assert all(p <= 40 for p in _prices(cluster, after.json()["suggestions"]))
    session = _stored_session(cluster, sid)
    assert session.constraints.max_price == 40
    assert set(acknowledged.values()) <= set(session.history)
