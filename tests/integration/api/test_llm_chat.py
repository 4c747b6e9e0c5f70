"""/v1/chat with the real embedded LLM (suite `-m llm`): a grounded, not reduced, answer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.build import agent_chat_model
from app.web import create_app
from runtime.container import Runtime
from serving.client import LLMConfig

pytestmark = pytest.mark.llm


def test_chat_with_the_embedded_llm_streams_a_grounded_answer(
    make_runtime: Callable[..., Runtime],
    embedded_llm: LLMConfig,
    tmp_path: Path,
) -> None:
    rt = make_runtime()
    rt.agent.llm = agent_chat_model(embedded_llm, timeout_s=300)
    rt.llm_config = embedded_llm
    client = TestClient(create_app(rt, screens=False))
    response = client.post("/v1/chat/stream", json={"message": "a dog bed under $90"})
    assert response.status_code == 200
    assert "event: token" in response.text and "event: done" in response.text
    done = response.text.rsplit("event: done\ndata: ", 1)[1]
    assert '"reduced_mode": false' in done
    assert client.get("/healthz").json()["llm"]["ok"] is True
