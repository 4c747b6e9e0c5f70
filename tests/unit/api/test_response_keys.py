"""The JSON contracts keep their keys: the REST responses, the turn trace and the ranked
items the tools hand the model. The item summary is one shared type inside (core/items.py);
these pin what it flattens to at each edge."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from agent.session import Session
from agent.tools import RankCandidatesArgs, Toolbox, UserHistoryArgs
from agent.trace import TurnTrace
from runtime.container import Runtime

SUMMARY = {"item_id", "title", "category", "brand", "price"}
SUGGESTION = SUMMARY | {"tail", "explanation"}
RECOMMENDED = SUMMARY | {"rank", "score", "tail", "explanation", "contributions"}
PRODUCT = SUMMARY | {"description", "attributes", "tail", "retired"}
CANDIDATE = SUMMARY | {
    "rank",
    "score",
    "tail",
    "popularity",
    "sources",
    "contributions",
    "similarity",
}
RANKED = SUMMARY | {
    "rank",
    "score",
    "tail",
    "popularity",
    "sources",
    "contributions",
    "driving_history",
    "message_similarity",
}
TOOL_FILTERS = {"category", "brands", "exclude_brands", "min_price", "max_price"}
TRACE = {
    "session_id",
    "turn",
    "mode",
    "message",
    "reduced_mode",
    "reduced_reason",
    "intent_llm",
    "intent_rules",
    "intent",
    "plan",
    "constraints",
    "corrections",
    "expansion",
    "out_of_catalog",
    "bought_together",
    "tool_calls",
    "llm_calls",
    "candidates",
    "suggestions",
    "llm_answer",
    "grounding",
    "grounding_action",
    "answer",
    "catalog_error",
    "timings_ms",
    "started_at",
}
CONSTRAINTS = {
    "query",
    "product_type",
    "category",
    "min_price",
    "max_price",
    "brands",
    "exclude_brands",
    "attributes",
    "exclude_words",
    "kinds",
    "soft_category",
}


def test_the_rest_responses_keep_their_keys(client: TestClient, item_ids: list[str]) -> None:
    chat = client.post("/v1/chat", json={"message": "a tent under $250"}).json()
    assert set(chat) == {"session_id", "turn", "answer", "suggestions", "reduced_mode"}
    assert chat["suggestions"], chat["answer"]
    assert all(set(s) == SUGGESTION for s in chat["suggestions"])
    body = {"history": item_ids[:3], "filters": {"max_price": 250}, "k": 5}
    recommended = client.post("/v1/recommend", json=body).json()
    assert recommended["items"]
    assert all(set(i) == RECOMMENDED for i in recommended["items"])
    assert all(i["price"] is not None and i["price"] <= 250 for i in recommended["items"])
    assert set(client.get(f"/v1/products/{item_ids[3]}").json()) == PRODUCT


def test_the_trace_and_the_tool_results_keep_their_keys(runtime: Runtime) -> None:
    agent = runtime.agent
    trace = agent.turn(agent.new_session(), "a tent under $250").trace
    logged = json.loads(trace.model_dump_json())
    assert set(logged) == TRACE
    assert set(logged["constraints"]) == CONSTRAINTS
    assert logged["candidates"] and logged["suggestions"]
    assert all(set(c) == CANDIDATE for c in logged["candidates"])
    assert all(set(s) == SUGGESTION for s in logged["suggestions"])
    rank = next(c for c in logged["tool_calls"] if c["name"] == "rank_candidates")
    assert set(rank["arguments"]["filters"]) == TOOL_FILTERS
    assert rank["arguments"]["filters"]["max_price"] == 250
    session = Session(history=[trace.candidates[0].item_id], events=["view"])
    toolbox = Toolbox(
        agent.services, session, TurnTrace(session_id="s", turn=1, mode="tools", message="")
    )
    ranked = toolbox.rank_candidates(RankCandidatesArgs(query="tent", k=3))
    assert set(ranked) == {"items", "candidates", "tail_knob", "timings_ms", "sources_used"}
    assert ranked["items"] and all(set(i) == RANKED for i in ranked["items"])
    history = toolbox.user_history(UserHistoryArgs(limit=5))
    assert [set(i) for i in history["items"]] == [SUMMARY | {"event"}]


def test_the_published_schema_requires_every_summary_field(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert set(schemas["Suggestion"]["required"]) == SUGGESTION
    assert set(schemas["RecommendedItem"]["required"]) == RECOMMENDED
    assert set(schemas["ProductResponse"]["required"]) == PRODUCT
