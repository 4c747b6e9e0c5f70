"""The API of two runtimes (two replicas in one process) over one real Redis and one real
PostgreSQL: a conversation streamed on one continues on the other, and concurrent events of
one session on both are all kept (the session lock spans replicas). The ranker is the
agent tests' word-overlap ranker: what is under test is the shared state, not ranking."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from agent.agent import ShoppingAgent
from agent.services import Services
from app.web import create_app
from catalog.demo import DemoConfig, generate_demo
from core.settings import AgentConfig, Settings
from runtime.backends import open_event_log
from runtime.container import Runtime
from tests.support.fakes import OverlapRanker

pytestmark = pytest.mark.scaleout


@pytest.fixture(scope="module")
def replicas(redis_server, postgres_server, tmp_path_factory) -> Iterator[list[TestClient]]:
    dataset = generate_demo(DemoConfig(seed=3, items=600, users=150))
    api = {
        "state_backend": "redis",
        "redis_url": redis_server.url,
        "redis_prefix": f"t{uuid.uuid4().hex[:8]}:",
        "events_backend": "postgres",
        "postgres_dsn": postgres_server.new_database(f"api_{uuid.uuid4().hex[:8]}"),
        "events_burst": 1000,
        "chat_burst": 100,
    }
    settings = Settings(home=tmp_path_factory.mktemp("api-home"), api=api)
    clients = []
    for _ in range(2):
        agent = ShoppingAgent(Services(ranker=OverlapRanker(dataset)), None, AgentConfig())
        rt = Runtime(settings, agent, open_event_log(settings))
        clients.append(TestClient(create_app(rt, screens=False)))
    yield clients
    for client in clients:
        client.app.state.runtime.events.close()


def _prices(client: TestClient, suggestions: list[dict]) -> list[float]:
    dataset = client.app.state.runtime.dataset
    return [dataset.products[dataset.item_index(s["item_id"])].price for s in suggestions]


def test_a_streamed_turn_on_one_replica_continues_on_the_other(replicas) -> None:
    one, two = replicas
    with one.stream("POST", "/v1/chat/stream", json={"message": "a kitchen knife under $40"}) as r:
        events = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]
    done = events[-1]
    sid = done["session_id"]
    assert done["suggestions"] and all(p <= 40 for p in _prices(one, done["suggestions"]))
    viewed = done["suggestions"][0]["item_id"]
    assert two.post("/v1/events", json={"session_id": sid, "item_id": viewed}).status_code == 201
    more = two.post("/v1/chat", json={"message": "more please", "session_id": sid})
    assert more.status_code == 200, more.text
    later = more.json()["suggestions"]
    assert later and all(p <= 40 for p in _prices(two, later))
    assert not {s["item_id"] for s in later} & {s["item_id"] for s in done["suggestions"]}
    session = one.app.state.runtime.sessions.get(sid).session
    assert session.history == [viewed] and session.turns == 2
    assert session.constraints.max_price == 40
    assert two.get("/healthz").json()["events_db"] is True


def test_concurrent_events_of_one_session_on_both_replicas_are_all_kept(replicas) -> None:
    one, two = replicas
    sid = one.post("/v1/sessions").json()["session_id"]
    items = [p.item_id for p in one.app.state.runtime.dataset.products[:24]]

    def click(n: int) -> int:
        client = (one, two)[n % 2]
        body = {"session_id": sid, "item_id": items[n], "event": "view"}
        return client.post("/v1/events", json=body).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(click, range(len(items)))) == {201}
    history = two.app.state.runtime.sessions.get(sid).session.history
    assert sorted(history) == sorted(items)  # no read-modify-write lost an event
    logged = one.app.state.runtime.events.for_session(sid)
    assert sorted(e.item_id for e in logged) == sorted(items)
