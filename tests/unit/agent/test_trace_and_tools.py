"""The turn trace (typed, JSON round trip) and tool-calling mode."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from langchain_core.messages import AIMessage

from agent.agent import ShoppingAgent
from agent.llm_steps import classify
from agent.services import Services
from agent.session import Session
from agent.tool_calling import TOOLS_RESAMPLE_TEMPERATURE
from agent.tools import FilterArgs, RankCandidatesArgs, SearchProductsArgs, Toolbox, ToolError
from agent.trace import TurnTrace
from core.filters import FilterError, Filters
from core.settings import AgentConfig
from tests.support.fakes import OverlapRanker, ScriptedChat


def test_trace_records_the_whole_turn_and_round_trips(make_agent) -> None:
    intent = json.dumps({"action": "search", "query": "tent"})
    agent = make_agent([intent, "Happy camping with these!"])
    result = agent.turn(agent.new_session(), "a tent under $250")
    trace = result.trace
    assert trace.intent_llm["query"] == "tent"
    assert trace.intent["max_price"] == 250
    rank = next(c for c in trace.tool_calls if c.name == "rank_candidates")
    assert rank.arguments["filters"]["max_price"] == 250 and rank.ms >= 0
    assert rank.summary["count"] == len(trace.candidates)
    assert all(c.contributions for c in trace.candidates)
    assert [c.purpose for c in trace.llm_calls] == ["intent", "answer"]
    assert trace.prompt_tokens == 200 and trace.completion_tokens == 40
    assert {"understand", "tools", "answer", "total"} <= set(trace.timings_ms)
    assert trace.answer == result.answer and trace.grounding_action == "kept"
    assert trace.suggestions == result.suggestions
    again = TurnTrace.model_validate_json(trace.model_dump_json())
    assert again == trace


def test_tool_arguments_are_validated(ranker: OverlapRanker) -> None:
    toolbox = Toolbox(
        Services(ranker=ranker),
        Session(),
        TurnTrace(session_id="s", turn=1, mode="guided", message=""),
    )
    with pytest.raises(ToolError, match="no search service"):
        toolbox.search_products(SearchProductsArgs(query="tent"))
    with pytest.raises(ValueError):
        RankCandidatesArgs(query="tent", k=0)
    tools = {t.name: t for t in toolbox.langchain_tools()}
    assert set(tools) == {
        "search_products",
        "similar_items",
        "user_history",
        "rank_candidates",
        "product_details",
    }
    assert "error" in tools["product_details"].invoke({"item_id": "nope"})
    bad_range = tools["rank_candidates"].invoke(
        {"query": "tent", "filters": {"min_price": 50, "max_price": 10}}
    )
    assert "inverted" in bad_range["error"]
    assert toolbox.trace.tool_calls[-1].ok is False


def test_tool_filters_change_shape_only_at_the_edges() -> None:
    """The model's call is parsed into `Filters`; a call's record is written back from them."""
    called = RankCandidatesArgs(query="tent", filters={"category": "Tents", "max_price": 50})
    assert called.call().filters == Filters(categories=("Tents",), max_price=50)
    exact = Filters(
        categories=("Tents",), brands=("A", "B"), exclude_brands=("C",), min_price=5, max_price=50
    )
    assert FilterArgs.of(exact).exact() == exact
    with pytest.raises(FilterError, match="one category"):
        FilterArgs.of(Filters(categories=("Tents", "Stoves")))


def tool_call(name: str, args: dict, call_id: str = "c1") -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id}])


def test_tool_calling_mode_uses_the_models_ranking(ranker: OverlapRanker) -> None:
    llm = ScriptedChat(
        script=[
            tool_call("rank_candidates", {"query": "tent", "filters": {"max_price": 200}, "k": 3}),
            "Here you go.",
        ],
        calls=[],
    )
    agent = ShoppingAgent(Services(ranker=ranker), llm, AgentConfig(mode="tools"))
    result = agent.turn(agent.new_session(), "tent under 200")
    assert result.suggestions and all(s.price <= 200 for s in result.suggestions)
    assert [c.purpose for c in result.trace.llm_calls] == ["tools", "answer"]
    assert "tools" in llm.calls[0] and llm.calls[0]["tools"][0]["type"] == "function"
    assert result.trace.tool_calls[-1].name == "rank_candidates"


def test_tool_calling_mode_falls_back_to_the_plan(ranker: OverlapRanker) -> None:
    llm = ScriptedChat(script=["I think you want a tent.", "Nice tents."], calls=[])
    agent = ShoppingAgent(Services(ranker=ranker), llm, AgentConfig(mode="tools"))
    result = agent.turn(agent.new_session(), "a tent under $300")
    assert result.suggestions and all(s.price <= 300 for s in result.suggestions)
    assert not result.reduced_mode
    assert result.trace.plan == "rank"


def test_streaming_shows_only_checked_sentences(make_agent, demo_dataset) -> None:
    stranger = next(p for p in demo_dataset.products if p.category == "Kitchen")
    intent = json.dumps({"action": "search", "query": "tent"})
    agent = make_agent([intent, f"Lovely tents here. {stranger.title} too! And one more"])
    pieces: list[str] = []
    result = agent.turn(agent.new_session(), "tents", on_token=pieces.append)
    assert "".join(pieces) == result.answer
    assert pieces[0] == "Lovely tents here."
    assert stranger.title not in "".join(pieces)
    assert "And one more" not in result.answer  # cut off by the token limit: dropped
    assert result.trace.grounding_action == "repaired"


def test_tool_calling_mode_survives_arguments_that_break_the_schema(ranker: OverlapRanker) -> None:
    bad = {"query": "tent", "filters": {"brands": "", "exclude_brands": ""}}
    llm = ScriptedChat(
        script=[tool_call("search_products", bad), "I could not search.", "Nice tents."],
        calls=[],
    )
    agent = ShoppingAgent(Services(ranker=ranker), llm, AgentConfig(mode="tools"))
    result = agent.turn(agent.new_session(), "a tent under $300")
    second_request = llm.calls[1]["messages"]
    assert "invalid arguments" in second_request[-1].content
    assert result.suggestions and all(s.price <= 300 for s in result.suggestions)


def malformed_tool_call_error() -> openai.InternalServerError:
    """What llama.cpp answers when the model's output is not a well-formed tool call."""
    message = "The model produced output that does not match the expected peg-native format"
    request = httpx.Request("POST", "http://127.0.0.1:8080/v1/chat/completions")
    body = {"error": {"code": 500, "message": message, "type": "server_error"}}
    response = httpx.Response(500, request=request, json=body)
    return openai.InternalServerError(f"Error code: 500 - {body}", response=response, body=body)


def test_a_malformed_tool_call_is_classified_as_invalid_output() -> None:
    assert classify(malformed_tool_call_error()) == "invalid"
    other = malformed_tool_call_error()
    other.args = ("Error code: 500 - out of memory",)
    assert classify(other) == "error"


def test_a_malformed_tool_call_is_resampled_once(ranker: OverlapRanker) -> None:
    llm = ScriptedChat(
        script=[
            malformed_tool_call_error(),
            tool_call("rank_candidates", {"query": "tent", "filters": {"max_price": 200}, "k": 3}),
            "Here you go.",
        ],
        calls=[],
    )
    agent = ShoppingAgent(Services(ranker=ranker), llm, AgentConfig(mode="tools"))
    result = agent.turn(agent.new_session(), "tent under 200")
    first, second = result.trace.llm_calls[:2]
    assert (first.purpose, first.ok, second.purpose, second.ok) == ("tools", False, "tools", True)
    assert first.error.startswith("invalid: ")
    assert [c["temperature"] for c in llm.calls[:2]] == [0.0, TOOLS_RESAMPLE_TEMPERATURE]
    assert not result.reduced_mode
    assert result.trace.tool_calls[-1].name == "rank_candidates"
    assert result.suggestions and all(s.price <= 200 for s in result.suggestions)


def test_a_second_malformed_tool_call_falls_back_to_the_plan(ranker: OverlapRanker) -> None:
    llm = ScriptedChat(
        script=[malformed_tool_call_error(), malformed_tool_call_error(), "Nice tents."],
        calls=[],
    )
    agent = ShoppingAgent(Services(ranker=ranker), llm, AgentConfig(mode="tools"))
    result = agent.turn(agent.new_session(), "a tent under $300")
    assert [c.ok for c in result.trace.llm_calls if c.purpose == "tools"] == [False, False]
    assert result.reduced_mode and result.trace.reduced_reason == "invalid"
    assert result.trace.plan == "rank"
    assert result.suggestions and all(s.price <= 300 for s in result.suggestions)
