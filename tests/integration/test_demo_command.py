"""`longtail demo` end to end as a user runs it: prepare once, then serve (a real server
process on loopback) and answer /v1/recommend, /v1/chat, the chat page and eval-chat."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.cli import longtail

pytestmark = pytest.mark.slow

SMALL_DEMO = {"LONGTAIL_DEMO__ITEMS": "300", "LONGTAIL_DEMO__USERS": "100"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen[str]) -> None:
    for _ in range(600):  # the server loads the encoder, the ranker and Gradio first
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url}/healthz never answered")


def test_demo_prepares_everything_once_then_serves_chat_and_recommend(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The main command on a fresh home: generate, ingest, train; a second run does nothing;
    then the demo serves (no LLM) and answers /v1/recommend, /v1/chat and the chat page."""
    for key, value in SMALL_DEMO.items():
        monkeypatch.setenv(key, value)
    first = longtail("demo", "--no-serve", "--json")
    assert first.returncode == 0, first.stderr
    prepared = json.loads(first.stdout)
    assert prepared["created"] and (prepared["items"], prepared["users"]) == (300, 100)
    assert prepared["store"]["state"] == "ingested" and prepared["store"]["embedded"] == 300
    assert {m["state"] for m in prepared["models"].values()} == {"trained"}
    assert "url" not in prepared
    assert "embedding" in first.stderr and "intent: training" in first.stderr  # progress bars

    again = json.loads(longtail("demo", "--no-serve", "--json").stdout)
    assert not again["created"] and again["store"]["state"] == "up to date"
    assert {m["state"] for m in again["models"].values()} == {"up to date"}

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "longtail", "demo", "--no-llm", "--port", str(port), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server)
        health = httpx.get(f"{url}/healthz").json()
        assert (health["status"], health["items"], health["llm"]["status"]) == ("ok", 300, "none")
        first_item = json.loads((Path(prepared["demo_dir"]) / "items.jsonl").open().readline())
        ranked = httpx.post(
            f"{url}/v1/recommend",
            json={"history": [first_item["item_id"]], "message": "a tent", "k": 5},
            timeout=60,
        )
        assert ranked.status_code == 200, ranked.text
        assert len(ranked.json()["items"]) == 5
        chat = httpx.post(f"{url}/v1/chat", json={"message": "a kitchen knife"}, timeout=120)
        assert chat.status_code == 200, chat.text
        turn = chat.json()
        assert turn["reduced_mode"] and turn["suggestions"] and turn["answer"]
        page = httpx.get(f"{url}/chat/", timeout=30, follow_redirects=True)
        assert page.status_code == 200 and "gradio" in page.text.lower()
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    assert json.loads(out)["url"] == f"{url}/chat/"
    assert f"open {url}/chat/" in err
    assert {m["state"] for m in json.loads(out)["models"].values()} == {"up to date"}

    # The conversation set in reduced mode over the prepared store: the report's contract.
    chat_eval = longtail("eval-chat", "--no-llm", "--limit", "3", "--json")
    assert chat_eval.returncode == 0, chat_eval.stderr
    report = json.loads(chat_eval.stdout)
    keys = {"turns", "constraint_satisfaction", "grounding_violations", "tail_share"}
    keys |= {"latency_p50_s", "latency_p95_s", "reduced_mode_turns"}
    assert keys <= set(report)
    assert report["turns"] >= 3 and report["reduced_mode_turns"] == report["turns"]
    assert report["grounding_violations"] == 0 and report["llm"] == "none"
