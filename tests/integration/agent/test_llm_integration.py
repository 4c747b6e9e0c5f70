"""The agent against the real embedded llama.cpp server (Qwen2.5-Coder-0.5B) and the real
hybrid ranker over a small ingested and trained demo store (`-m llm`, a few minutes on two
shared cores). Assertions are about structure and grounding, never wording."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.agent import ShoppingAgent
from agent.build import build_agent
from agent.grounding import GroundingChecker
from agent.services import Services
from agent.trace import TurnTrace
from core.settings import AgentConfig
from evaluation.chat_checks import Expect, check_turn, grounding_violations
from serving.client import LLMConfig
from serving.embedded import EmbeddedServer
from serving.models import DEFAULT_MODEL, ensure_model

pytestmark = [pytest.mark.llm, pytest.mark.slow]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_model(DEFAULT_MODEL, tmp_path_factory.mktemp("agent-llm"), progress=None)


@pytest.fixture(scope="module")
def llm(model: Path) -> Iterator[LLMConfig]:
    server = EmbeddedServer(model, model_name=DEFAULT_MODEL, threads=1)
    server.start(timeout_s=300)
    try:
        # Generous: other suites share these two cores.
        yield LLMConfig(base_url=server.base_url, model=DEFAULT_MODEL, timeout_s=300)
    finally:
        server.stop()


def agent_for(services: Services, llm: LLMConfig, **config) -> ShoppingAgent:
    return build_agent(services, llm, AgentConfig(**config), timeout_s=300)


def assert_grounded(agent: ShoppingAgent, result, session) -> None:
    checker = GroundingChecker(agent.dataset.products)
    assert grounding_violations(checker, agent, result, session) == []


def test_guided_conversation_with_the_real_llm(services: Services, llm: LLMConfig) -> None:
    agent = agent_for(services, llm)
    session = agent.new_session()
    turns = [
        ("I need a tent under $400", Expect(type="tent", max_price=400)),
        ("not Northpeak", Expect(type="tent", max_price=400, exclude_brands=["Northpeak"])),
        ("tell me about the first one", Expect(details=1)),
    ]
    for message, expect in turns:
        previous, before = list(session.last_shown), set(session.shown)
        result = agent.turn(session, message)
        trace = result.trace
        assert not result.reduced_mode, trace.reduced_reason
        assert trace.intent_llm is not None
        assert [c.purpose for c in trace.llm_calls] == ["intent", "answer"], (message, trace)
        assert all(c.ok and c.completion_tokens > 0 for c in trace.llm_calls)
        assert check_turn(agent, expect, result, previous, before) == []
        assert_grounded(agent, result, session)
        assert TurnTrace.model_validate_json(trace.model_dump_json()) == trace


def test_the_answer_streams(services: Services, llm: LLMConfig) -> None:
    agent = agent_for(services, llm)
    session = agent.new_session()
    pieces: list[str] = []
    result = agent.turn(session, "a yoga mat", on_token=pieces.append)
    assert "".join(pieces) == result.answer
    assert len(pieces) >= 2  # the checked intro (or its template) and then the list
    assert_grounded(agent, result, session)


def test_tool_calling_mode_on_llama_cpp(services: Services, llm: LLMConfig) -> None:
    agent = agent_for(services, llm, mode="tools")
    assert agent.config.prefill_tool_call  # llama.cpp was detected
    session = agent.new_session()
    result = agent.turn(session, "a headlamp under $80")
    tools_calls = [c for c in result.trace.llm_calls if c.purpose == "tools"]
    # One malformed call is resampled (llama.cpp answers 500 for it); then the model must call.
    assert tools_calls[0].ok or (tools_calls[0].error.startswith("invalid") and tools_calls[1].ok)
    assert result.trace.tool_calls, "the turn called no tool"
    assert result.suggestions
    assert_grounded(agent, result, session)


def test_server_stopped_mid_conversation(services: Services, model: Path) -> None:
    """A server that answered, then went away: the next turns are reduced mode, grounded."""
    server = EmbeddedServer(model, model_name=DEFAULT_MODEL, threads=1)
    server.start(timeout_s=300)
    config = LLMConfig(base_url=server.base_url, model=DEFAULT_MODEL, timeout_s=300)
    agent = agent_for(services, config)
    session = agent.new_session()
    try:
        first = agent.turn(session, "a sleeping bag")
    finally:
        server.stop()
    assert not first.reduced_mode
    # (Not "show me more": the demo store has three unshown sleeping bags under $150, and
    # once they are shown the agent rightly says it found nothing new.)
    for message in ("under $150", "a tent then"):
        result = agent.turn(session, message)
        assert result.reduced_mode and result.trace.reduced_reason == "down"
        assert result.suggestions
        assert_grounded(agent, result, session)
