"""The LLM down, slow or wrong: every turn still ends in ranked, grounded products and says
it is in reduced mode; nothing raises."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from agent.agent import REDUCED_NOTE
from agent.grounding import GroundingChecker

REQUEST = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")


def down() -> Exception:
    return openai.APIConnectionError(request=REQUEST)


def slow() -> Exception:
    return openai.APITimeoutError(request=REQUEST)


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (down(), "down"),
        (slow(), "slow"),
        ("not json at all", "invalid"),
        (json.dumps({"action": "buy-now", "query": "x"}), "invalid"),
        (RuntimeError("server exploded"), "error"),
    ],
)
def test_reduced_mode_answers_with_grounded_products(make_agent, reply, reason) -> None:
    agent = make_agent([reply])
    result = agent.turn(agent.new_session(), "a tent under $300")
    assert result.reduced_mode
    assert result.trace.reduced_reason == reason
    assert result.suggestions
    assert all(s.price <= 300 for s in result.suggestions)
    assert result.answer.endswith(REDUCED_NOTE)
    checker = GroundingChecker(agent.dataset.products)
    shown = [agent.product(s.item_id) for s in result.suggestions]
    assert checker.check(result.answer, shown, listed=len(shown), limits=[300]) == []
    assert result.trace.llm_calls[0].ok is False


def test_no_llm_at_all_is_reduced_mode(make_agent) -> None:
    agent = make_agent(None)
    result = agent.turn(agent.new_session(), "cheap dog leash under 30")
    assert result.reduced_mode and result.suggestions
    assert all(s.price <= 30 for s in result.suggestions)


def test_a_down_server_is_not_retried_every_turn(make_agent) -> None:
    agent = make_agent([down()])
    session = agent.new_session()
    agent.turn(session, "a tent")
    second = agent.turn(session, "under 200")  # the script is empty: a call would fail loudly
    assert second.reduced_mode and second.trace.reduced_reason == "down"
    assert "skipped" in second.trace.llm_calls[0].error
    assert len(agent.llm.calls) == 1


def test_answer_step_failure_keeps_the_turn(make_agent) -> None:
    agent = make_agent([json.dumps({"action": "search", "query": "tent"}), slow()])
    result = agent.turn(agent.new_session(), "a tent")
    assert result.reduced_mode and result.trace.reduced_reason == "slow"
    assert result.trace.intent_llm is not None
    assert result.suggestions and REDUCED_NOTE in result.answer


def test_a_real_client_against_a_closed_port_is_reduced_mode(ranker) -> None:
    """The production chat model (ChatOpenAI) pointed at a port nobody listens on."""
    import socket

    from agent.build import build_agent
    from agent.services import Services
    from serving.client import LLMConfig

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = LLMConfig(base_url=f"http://127.0.0.1:{port}/v1", model="m", max_retries=0)
    agent = build_agent(Services(ranker=ranker), config)
    session = agent.new_session()
    for message in ("a tent", "not Northpeak", "show me more like #1"):
        result = agent.turn(session, message)
        assert result.reduced_mode and result.trace.reduced_reason == "down"
        assert result.suggestions and REDUCED_NOTE in result.answer
