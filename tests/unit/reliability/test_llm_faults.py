"""Item 2, the LLM misbehaving over real HTTP: a body that is not JSON, JSON without choices,
a 500, llama.cpp's 500 for a malformed call (resampled once), tool calls with unparsable or
ill-typed arguments. Each turn still answers with ranked products (reduced mode where the
reply was unusable), and the next turn after the server behaves again uses the LLM, without
a restart. Down and slow servers, and invalid intents,
are covered in tests/unit/agent/test_degradation.py and tests/unit/serving/test_client.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.build import build_agent
from agent.services import Services
from app.web import create_app
from catalog.dataset import Dataset
from core.settings import AgentConfig, Settings
from events.log import EventLog
from runtime.container import Runtime
from serving.client import LLMConfig
from tests.support.fakes import OverlapRanker
from tests.unit.reliability.conftest import ScriptedLLMServer, completion

BROKEN_ARGS = completion(tool_calls=[{"name": "rank_candidates", "arguments": '{"query": "te'}])
# llama.cpp's answer when the model's output is not a well-formed call: resampled once.
LLAMA_MALFORMED_CALL = json.dumps(
    {
        "error": {
            "code": 500,
            "message": "The model produced output that does not match the expected "
            "peg-native format",
            "type": "server_error",
        }
    }
).encode()
WRONG_TYPES = completion(
    tool_calls=[{"name": "rank_candidates", "arguments": json.dumps({"k": "many", "tail_knob": 7})}]
)


@pytest.fixture
def chat(llm_server: ScriptedLLMServer, demo_dataset: Dataset, tmp_path: Path) -> TestClient:
    config = LLMConfig(base_url=llm_server.url, model="scripted", timeout_s=10, max_retries=0)
    agent = build_agent(
        Services(ranker=OverlapRanker(demo_dataset)),
        config,
        AgentConfig(mode="tools", llm_cooldown_s=0.0),
    )
    rt = Runtime(Settings(home=tmp_path, api={"chat_burst": 100}), agent, EventLog(tmp_path / "e"))
    return TestClient(create_app(rt, screens=False))


@pytest.mark.parametrize(
    ("reply", "reduced"),
    [
        ((200, b"this is not json at all"), True),
        ((200, b'{"object": "chat.completion"}'), True),
        ((500, b"<html>internal server error</html>"), True),
        ((500, LLAMA_MALFORMED_CALL), False),  # resampled: the next reply is usable
        ((200, BROKEN_ARGS), False),  # no usable call: the agent runs its own plan
        ((200, WRONG_TYPES), False),  # the validation error goes back to the model
    ],
    ids=[
        "not-json",
        "no-choices",
        "http-500",
        "malformed-call-500",
        "unparsable-arguments",
        "wrong-types",
    ],
)
def test_a_malformed_reply_still_answers_then_recovers(
    chat: TestClient, llm_server: ScriptedLLMServer, reply: tuple[int, bytes], reduced: bool
) -> None:
    llm_server.replies = [reply]
    response = chat.post("/v1/chat", json={"message": "a dog bed under $80"})
    assert response.status_code == 200, response.text
    turn = response.json()
    assert turn["reduced_mode"] is reduced
    assert turn["suggestions"] and all(s["price"] <= 80 for s in turn["suggestions"])
    if reply[1] == LLAMA_MALFORMED_CALL:
        assert [b.get("temperature") for b in llm_server.requests[:2]] == [0.0, 0.7]
    if reply[1] == WRONG_TYPES:
        sent_back = [
            m["content"] for b in llm_server.requests for m in b["messages"] if m["role"] == "tool"
        ]
        assert sent_back and "k" in sent_back[0] and "tail_knob" in sent_back[0]

    again = chat.post("/v1/chat", json={"message": "a tent", "session_id": turn["session_id"]})
    assert again.status_code == 200, again.text
    assert again.json()["reduced_mode"] is False  # the server works again: no restart needed
    assert again.json()["answer"].startswith("Here are some picks")
