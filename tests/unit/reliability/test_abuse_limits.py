"""Issue 17, limits a stranger cannot dodge: the X-Forwarded-For chain is read from the right,
the API and the Gradio chat count one client as one, every route a stranger reaches has a
per-client bucket, a flood of new sessions cannot push out a shopper's live session, and a
session's history stays at `api.max_history` however many events arrive."""

from __future__ import annotations

from collections.abc import Callable

import gradio as gr
import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from api.deps import client_key
from app.web import create_app
from core.settings import ApiSettings
from runtime.clients import client_address
from runtime.container import Runtime
from ui.shopper import _client as shopper_client_key

PROXY = ("10.0.0.2", 40000)  # the connection comes from our reverse proxy


def test_a_forged_forwarded_for_chain_does_not_dodge_the_chat_limit(
    make_runtime: Callable[..., Runtime],
) -> None:
    rt = make_runtime(trust_forwarded_for=True, proxy_hops=1, chat_burst=2, chat_rate_per_minute=1)
    client = TestClient(create_app(rt, screens=False), client=PROXY)
    codes = []
    for n in range(5):  # a new forged left-most address each time; the proxy appends the real one
        forged = {"x-forwarded-for": f"192.0.2.{n}, 203.0.113.7"}
        codes.append(
            client.post("/v1/chat", json={"message": "a tent"}, headers=forged).status_code
        )
    assert codes == [200, 200, 429, 429, 429]
    other = {"x-forwarded-for": "192.0.2.1, 203.0.113.8"}  # another real client is served
    assert client.post("/v1/chat", json={"message": "a tent"}, headers=other).status_code == 200


@pytest.mark.parametrize(
    ("settings", "peer", "forwarded", "client"),
    [
        ({}, "10.0.0.2", "1.1.1.1", "10.0.0.2"),  # not trusted: the connection
        ({"proxy_hops": 1}, "10.0.0.2", "6.6.6.6, 1.1.1.1", "1.1.1.1"),
        ({"proxy_hops": 2}, "10.0.0.2", "6.6.6.6, 1.1.1.1, 10.0.0.1", "1.1.1.1"),
        ({"proxy_hops": 2}, "10.0.0.2", "", "10.0.0.2"),  # fewer hops than said: the oldest
        ({"trusted_proxies": ["10.0.0.0/8"]}, "10.0.0.2", "6.6.6.6, 1.1.1.1, 10.9.9.9", "1.1.1.1"),
        ({"trusted_proxies": ["10.0.0.0/8"]}, "198.51.100.4", "1.1.1.1", "198.51.100.4"),
        ({"trusted_proxies": ["10.0.0.0/8"]}, "10.0.0.2", "junk, 1.1.1.1", "1.1.1.1"),
    ],
)
def test_the_client_is_read_from_the_right_past_our_proxies(
    settings: dict, peer: str, forwarded: str, client: str
) -> None:
    trust = {"trust_forwarded_for": bool(settings)} | settings
    api = ApiSettings(**trust)
    assert client_address(peer, {"x-forwarded-for": forwarded}, api) == client


def test_a_bad_proxy_setting_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not an IP address or network"):
        ApiSettings(trusted_proxies=["proxy.local"])
    with pytest.raises(ValueError, match="not an origin"):
        ApiSettings(allowed_origins=["shop.example.com/path"])


def test_the_gradio_chat_and_the_api_share_one_bucket(
    make_runtime: Callable[..., Runtime],
) -> None:
    rt = make_runtime(trust_forwarded_for=True, chat_burst=2, chat_rate_per_minute=1)
    headers = {"x-forwarded-for": "192.0.2.99, 203.0.113.7"}
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/chat/gradio_api/queue/join",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        "client": PROXY,
    }
    starlette_request = Request(scope)
    ui_key = shopper_client_key(rt, gr.Request(request=starlette_request))
    assert ui_key == client_key(starlette_request, rt) == "203.0.113.7"
    api = TestClient(create_app(rt, screens=False), client=PROXY)
    for _ in range(2):
        assert api.post("/v1/chat", json={"message": "a lamp"}, headers=headers).status_code == 200
    assert rt.limiters["chat"].take(ui_key) > 0  # the screen's next message must wait too


@pytest.mark.parametrize(
    ("route", "setting"),
    [("/v1/sessions", "sessions"), ("/v1/events", "events"), ("/v1/recommend", "recommend")],
)
def test_sessions_events_and_recommend_have_per_client_buckets(
    make_runtime: Callable[..., Runtime], item_ids: list[str], route: str, setting: str
) -> None:
    rt = make_runtime(**{f"{setting}_burst": 3, f"{setting}_rate_per_minute": 1})
    client = TestClient(create_app(rt, screens=False))
    sid = rt.new_session([]).session_id
    bodies = {
        "/v1/sessions": None,
        "/v1/events": {"session_id": sid, "item_id": item_ids[0]},
        "/v1/recommend": {"message": "a tent"},
    }
    codes = [client.post(route, json=bodies[route]).status_code for _ in range(5)]
    assert codes[:3] == [codes[0]] * 3 and codes[0] in (200, 201)
    assert codes[3:] == [429, 429]
    limited = client.post(route, json=bodies[route])
    assert int(limited.headers["retry-after"]) >= 1 and setting in limited.json()["detail"]
    other = TestClient(create_app(rt, screens=False), client=("10.0.0.9", 5000))
    assert other.post(route, json=bodies[route]).status_code in (200, 201)


def test_a_sessions_flood_cannot_evict_an_active_shopper(
    make_runtime: Callable[..., Runtime], item_ids: list[str]
) -> None:
    rt = make_runtime(max_sessions=20, sessions_burst=1000)
    shopper = TestClient(create_app(rt, screens=False), client=("198.51.100.10", 5000))
    sid = shopper.post("/v1/chat", json={"message": "a dog bed"}).json()["session_id"]
    flood = TestClient(create_app(rt, screens=False), client=("192.0.2.66", 5000))
    codes = [flood.post("/v1/sessions").status_code for _ in range(100)]
    assert codes.count(201) == 19 and set(codes[19:]) == {503}
    refused = flood.post("/v1/sessions")
    assert refused.headers["retry-after"] and "sessions are in use" in refused.json()["detail"]
    event = {"session_id": sid, "item_id": item_ids[3]}
    assert shopper.post("/v1/events", json=event).status_code == 201
    again = shopper.post("/v1/chat", json={"message": "cheaper", "session_id": sid})
    assert again.status_code == 200 and again.json()["session_id"] == sid


def test_a_thousand_events_keep_the_history_at_max_history(
    make_runtime: Callable[..., Runtime], item_ids: list[str]
) -> None:
    rt = make_runtime(max_history=500, events_burst=5000, chat_burst=100)
    client = TestClient(create_app(rt, screens=False))
    sid = client.post("/v1/sessions").json()["session_id"]
    sent = [item_ids[n % len(item_ids)] for n in range(1000)]
    codes = {
        client.post("/v1/events", json={"session_id": sid, "item_id": item}).status_code
        for item in sent
    }
    assert codes == {201}
    history = rt.sessions.get(sid).session.history
    assert len(history) == 500 and history == sent[-500:]  # the newest 500
    assert len(rt.events.for_session(sid)) == 1000  # the durable log keeps every event
    turn = client.post("/v1/chat", json={"message": "more like these", "session_id": sid})
    assert turn.status_code == 200
    assert len(rt.sessions.get(sid).session.history) <= 500
