"""The screens without a browser: login over HTTP, and the console's and studio's actions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest

from runtime.container import Runtime
from serving.prompts import PROMPTS_DIR, PromptError, PromptLibrary
from tests.support.runtime import STAFF
from tests.support.screens import LiveServer, staff_client
from ui.cards import TAIL_BADGE, card_html
from ui.console import Console
from ui.prompt_versions import PromptStore
from ui.trace_view import candidate_table, timing_rows, tool_rows


def test_staff_screens_need_a_login_and_the_shopper_chat_does_not(
    live_server: LiveServer,
) -> None:
    url = live_server.url
    assert httpx.get(f"{url}/chat/config").status_code == 200
    assert httpx.get(f"{url}/widget/config").status_code == 200
    for screen in ("console", "studio"):
        assert httpx.get(f"{url}/{screen}/config").status_code == 401
        with staff_client(url, screen) as client:
            bad = client.post(f"/{screen}/login", data={"username": "staff", "password": "x"})
            assert bad.status_code == 400
            assert client.get(f"/{screen}/config").status_code == 401
            good = client.post(
                f"/{screen}/login", data={"username": STAFF.user, "password": STAFF.password}
            )
            assert good.status_code == 200
            assert client.get(f"/{screen}/config").status_code == 200
        with staff_client(url, screen) as client:
            by_token = client.post(
                f"/{screen}/login", data={"username": "anyone", "password": STAFF.token}
            )
            assert by_token.status_code == 200


def test_no_staff_credentials_in_production_means_no_staff_screens(
    make_runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from app.web import create_app
    from runtime.auth import StaffAuth

    monkeypatch.delenv("LONGTAIL_STAFF_PASSWORD", raising=False)
    monkeypatch.delenv("LONGTAIL_STAFF_TOKEN", raising=False)
    rt: Runtime = make_runtime(production=True)
    rt.staff = StaffAuth.from_settings(rt.settings.api)
    assert not rt.staff.enabled
    client = TestClient(create_app(rt))
    assert client.get("/chat/config").status_code == 200
    assert client.get("/console/config").status_code == 404
    dev = StaffAuth.from_settings(make_runtime().settings.api)
    assert dev.generated and dev.password and len(dev.password) >= 16
    assert StaffAuth.from_settings(make_runtime().settings.api).password != dev.password


def test_cards_escape_text_and_badge_tail_items() -> None:
    from agent.trace import Suggestion

    card = Suggestion(
        item_id="x<1>",
        title="<script>alert(1)</script>",
        brand="B&B",
        category="Garden",
        price=9.5,
        tail=True,
        explanation="It fits.",
    )
    html = card_html(card, 1)
    assert "<script>" not in html and "&lt;script&gt;" in html and "$9.50" in html
    assert TAIL_BADGE in html
    assert TAIL_BADGE not in card_html(card.model_copy(update={"tail": False}), 1)


def test_console_asks_as_a_demo_user_and_shows_the_trace(runtime: Runtime) -> None:
    console = Console(runtime)
    user = runtime.dataset.user_ids[0]
    session = console.session(user, [])
    assert session.history  # the demo user's logged history
    result = console.ask(session, "a hiking backpack under $80", 0.5)
    headers, rows = candidate_table(result.trace)
    assert {"rank", "score", "tail", "semantic"} <= set(headers)
    assert rows and all(isinstance(r[headers.index("tail")], bool) for r in rows)
    tools = tool_rows(result.trace)
    assert "rank_candidates" in [t[0] for t in tools]
    assert json.loads(tools[-1][1])["tail_knob"] == 0.5
    assert any(stage == "total" for stage, _ in timing_rows(result.trace))
    with pytest.raises(ValueError, match="unknown shopper 'no-such-user': not a demo shopper"):
        console.session("no-such-user", [])


def test_console_replays_and_compares(runtime: Runtime, item_ids: list[str]) -> None:
    console = Console(runtime)
    saved = json.dumps(
        {"history": [item_ids[0]], "tail_knob": 0.2, "messages": ["a dog bed", "cheaper"]}
    )
    results = console.replay(saved)
    assert [r.trace.turn for r in results] == [1, 2]
    a, b = console.compare("", [], "a desk lamp", 0.0, 1.0)
    knobs = [json.loads(tool_rows(r.trace)[-1][1])["tail_knob"] for r in (a, b)]
    assert knobs == [0.0, 1.0]
    assert runtime.agent.config.tail_knob is None  # the live agent is untouched


@pytest.fixture
def store(tmp_path: Path) -> PromptStore:
    folder = tmp_path / "prompts"
    shutil.copytree(PROMPTS_DIR, folder)
    return PromptStore(PromptLibrary(folder), tmp_path / "audit.jsonl")


def test_prompt_store_saves_drafts_publishes_diffs_and_rolls_back(store: PromptStore) -> None:
    assert "answer" in store.names() and "intent" in store.names()
    latest = store.versions("answer")[-1].version
    text = store.source("answer", latest).replace("friendly", "cheerful")
    new = store.save("answer", text, "cheerful tone")
    assert new == latest + 1
    info = store.versions("answer")[-1]
    assert (info.version, info.note) == (new, "cheerful tone")
    assert store.library.get("answer").version == latest  # a draft: not live yet
    assert store.audit() == []  # saving is not publishing
    published = store.publish("answer", new, "alice")
    assert store.library.get("answer").version == new  # live for the agent
    assert (published.who, published.action, published.previous) == ("alice", "publish", latest)
    assert "+You are a cheerful" in store.diff("answer", latest, new)
    back = store.rollback("answer", latest, "bob")
    assert store.library.get("answer").version == latest
    assert "friendly" in store.library.get("answer").path.read_text()
    reopened = PromptStore(PromptLibrary(store.folder), store.audit_log)  # survives a restart
    assert reopened.live("answer") == latest
    assert reopened.audit() == [back, published]  # newest first
    assert (back.who, back.action, back.template, back.version) == (
        "bob",
        "rollback",
        "answer",
        latest,
    )


def test_prompt_store_refuses_bad_drafts(store: PromptStore) -> None:
    text = store.source("answer", store.versions("answer")[-1].version)
    with pytest.raises(PromptError, match="undeclared variable"):
        store.validate("answer", text + "{{ secret }}\n")
    with pytest.raises(PromptError, match="never uses"):
        store.validate("answer", text.replace("{{ message }}", ""))
    with pytest.raises(PromptError, match="needs a note"):
        store.save("answer", text, "  ")
    before = store.library.versions("answer")
    with pytest.raises(PromptError):
        store.save("answer", "no front matter", "bad")
    assert store.library.versions("answer") == before


def test_studio_preview_runs_the_draft_through_the_agent(make_runtime, tmp_path: Path) -> None:
    from ui.studio import Studio

    intent = json.dumps({"action": "search", "query": "dog bed"})
    rt = make_runtime(script=[intent, "Here are some good ones."] * 4)
    folder = tmp_path / "p"
    shutil.copytree(PROMPTS_DIR, folder)
    rt.agent.prompts = PromptLibrary(folder)
    studio = Studio(rt)
    name = "dog-bed"
    text = studio.store.source("answer", studio.store.versions("answer")[-1].version)
    draft = text.replace("friendly", "cheerful")
    turns = studio.preview("answer", draft, name)
    assert turns and all(t["answer"] for t in turns)
    prompts_used = {c["prompt"] for t in turns for c in t["llm_calls"]}
    draft_key = f"answer.v{studio.store.versions('answer')[-1].version + 1}"
    assert draft_key in prompts_used  # the draft, not the live version, was used
    assert f"{draft_key}.jinja" not in {p.name for p in folder.iterdir()}  # nothing published
