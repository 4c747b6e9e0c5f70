"""The CLI as a user runs it: exit codes, --json contracts, clear errors without tracebacks."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def longtail(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "longtail", *args], capture_output=True, text=True, timeout=600
    )


def test_help_and_version() -> None:
    assert longtail("--help").returncode == 0
    result = longtail("--version")
    assert result.returncode == 0 and result.stdout.startswith("longtail ")


def test_stats_json_on_office(amazon_office: Path) -> None:
    result = longtail("data", "stats", "--data", str(amazon_office), "--json")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert (stats["users"], stats["items"], stats["interactions"]) == (4905, 2420, 53258)
    assert stats["tail_interaction_share"] == pytest.approx(0.396, abs=0.001)


def test_convert_then_stats_report_the_same(amazon_office: Path, tmp_path: Path) -> None:
    out = tmp_path / "office"
    converted = longtail(
        "data", "convert", "--from", "amazon", str(amazon_office), "--out", str(out)
    )
    assert converted.returncode == 0, converted.stderr
    stats = json.loads(longtail("data", "stats", "--data", str(out), "--json").stdout)
    assert (stats["users"], stats["items"], stats["interactions"]) == (4905, 2420, 53258)
    assert stats["tail_interaction_share"] == pytest.approx(0.396, abs=0.001)


def test_bad_file_exits_2_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "items.jsonl").write_text('{"item_id": "a", "title": "A"}\n')
    (tmp_path / "interactions.csv").write_text("user_id,item_id,timestamp\nu1,b,1\n")
    result = longtail("data", "stats", "--data", str(tmp_path))
    assert result.returncode == 2
    assert "interactions.csv:2: unknown item_id 'b'" in result.stderr
    assert "Traceback" not in result.stderr
    skipped = longtail("data", "stats", "--data", str(tmp_path), "--skip-bad", "--json")
    assert skipped.returncode == 0
    assert json.loads(skipped.stdout)["skipped_rows"] == 1
    assert "skipped 1 bad row" in skipped.stderr


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


@pytest.mark.slow
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
