"""Sessions never see each other; chat is rate-limited per client; a full house queues."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from agent.session import Session
from app.web import create_app
from runtime.container import Runtime
from runtime.sessions import SessionsFull, SessionStore, UnknownSession


def test_concurrent_sessions_keep_their_own_history_and_constraints(
    make_runtime: Callable[..., Runtime], item_ids: list[str]
) -> None:
    rt = make_runtime(chat_burst=100)
    client = TestClient(create_app(rt, screens=False))
    topics = ["hiking backpack under $60", "dog bed", "desk lamp", "coffee grinder"]

    def converse(n: int) -> tuple[str, dict]:
        history = [item_ids[10 + n]]
        first = client.post("/v1/chat", json={"message": topics[n], "history": history}).json()
        sid = first["session_id"]
        client.post("/v1/events", json={"session_id": sid, "item_id": item_ids[100 + n]})
        second = client.post("/v1/chat", json={"message": "more please", "session_id": sid})
        return sid, second.json()

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(converse, range(4)))
    ids = [sid for sid, _ in results]
    assert len(set(ids)) == 4
    for n, sid in enumerate(ids):
        session = rt.sessions.get(sid).session
        assert session.history == [item_ids[10 + n], item_ids[100 + n]]
        assert [e.item_id for e in rt.events.for_session(sid)] == [item_ids[100 + n]]
    queries = {rt.sessions.get(sid).session.constraints.query for sid in ids}
    assert len(queries) == 4  # every session kept its own request


def test_session_ids_are_unguessable_and_expire() -> None:
    now = [0.0]
    store = SessionStore(max_sessions=2, ttl_s=10, clock=lambda: now[0])
    a, b = store.create(Session()), store.create(Session())
    assert a != b and len(a) >= 32
    now[0] = 5
    store.get(a)
    with pytest.raises(SessionsFull):  # full of live sessions: refuse, never evict one
        store.create(Session())
    store.get(b)
    now[0] = 16  # b idle 11 s > ttl; a idle 11 s too
    with pytest.raises(UnknownSession):
        store.get(a)
    store.create(Session())  # expired sessions make room


def test_chat_is_rate_limited_per_client(make_runtime: Callable[..., Runtime]) -> None:
    rt = make_runtime(chat_burst=3, chat_rate_per_minute=1)
    client = TestClient(create_app(rt, screens=False))
    codes = [client.post("/v1/chat", json={"message": "a tent"}).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    limited = client.post("/v1/chat", json={"message": "a tent"})
    assert int(limited.headers["retry-after"]) >= 1
    assert "too many chat requests" in limited.json()["detail"]
    assert client.post("/v1/recommend", json={"message": "tent"}).status_code == 200
    other = TestClient(create_app(rt, screens=False), client=("10.0.0.9", 5000))
    assert other.post("/v1/chat", json={"message": "a tent"}).status_code == 200


def test_a_full_house_queues_then_answers_503_past_the_wait(
    make_runtime: Callable[..., Runtime],
) -> None:
    rt = make_runtime(chat_concurrency=1, chat_queue_timeout_s=0.5, chat_burst=100)
    client = TestClient(create_app(rt, screens=False))
    release = threading.Event()
    real_turn = rt.agent.turn

    def slow_turn(*args: object, **kwargs: object):
        release.wait(5)
        return real_turn(*args, **kwargs)

    rt.agent.turn = slow_turn  # type: ignore[method-assign]
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(client.post, "/v1/chat", json={"message": "a tent"})
        time.sleep(0.2)
        second = client.post("/v1/chat", json={"message": "a lamp"})
        assert second.status_code == 503 and second.headers["retry-after"]
        release.set()
        assert first.result().status_code == 200
    queued = client.post("/v1/chat", json={"message": "a lamp"})
    assert queued.status_code == 200
