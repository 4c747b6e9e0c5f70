"""What every OpenAI-compatible server must do for longtail; run against each real server.

Structure only: schema-valid JSON, offered tool names, non-empty text. Never exact wording,
never wall-clock limits.
"""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema

from serving.check import INTENT_SCHEMA, SEARCH_TOOL, SIMILAR_TOOL, extract_intent
from serving.client import (
    LLMConfig,
    chat,
    chat_model,
    forced_tool_call,
    health_check,
    stream_chat,
)

HELLO = [{"role": "user", "content": "Name one kind of product people buy for camping."}]


def check_chat(config: LLMConfig) -> None:
    text = chat(config, HELLO, max_tokens=24)
    assert isinstance(text, str) and text.strip()


def check_streaming(config: LLMConfig) -> None:
    deltas = list(stream_chat(config, HELLO, max_tokens=24))
    assert len(deltas) >= 2, deltas  # it really streamed, token by token
    assert all(isinstance(d, str) for d in deltas)
    assert "".join(deltas).strip()


def check_langchain(config: LLMConfig) -> None:
    model = chat_model(config, max_tokens=16)
    reply = model.invoke([("user", "Say hello to a shopper.")])
    assert isinstance(reply.content, str) and reply.content.strip()
    chunks = list(model.stream([("user", "Say hello to a shopper.")]))
    assert len(chunks) >= 2
    assert "".join(str(c.content) for c in chunks).strip()


def check_json_schema(config: LLMConfig) -> None:
    for message in (
        "I need a waterproof hiking backpack under $120 from Osprey or Deuter.",
        "Do you have something cheaper than that?",
    ):
        intent, _ = extract_intent(config, message)
        jsonschema.validate(intent, INTENT_SCHEMA)


def check_tool_call(config: LLMConfig) -> None:
    offered = [SEARCH_TOOL, SIMILAR_TOOL]
    calls = forced_tool_call(
        config,
        [
            {"role": "system", "content": "You are a shopping assistant. Use the tools."},
            {"role": "user", "content": "Look for a small espresso grinder under 90 dollars."},
        ],
        offered,
        max_tokens=96,
    )
    assert len(calls) >= 1
    schemas = {t["function"]["name"]: t["function"]["parameters"] for t in offered}
    for call in calls:
        assert call["name"] in schemas
        jsonschema.validate(call["arguments"], schemas[call["name"]])


def check_health(config: LLMConfig) -> None:
    health = health_check(config)
    assert health.ok and health.status == "ok", health.message
    assert config.model in health.models
    assert health.latency_s is not None and health.latency_s >= 0


def check_cli(config: LLMConfig) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "longtail", "llm", "check", "--url", config.base_url, "--json"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    report = json.loads(result.stdout)
    assert result.returncode == (0 if report["ok"] else 1), result.stderr
    for key in ("model", "ok", "tokens_per_s", "json_schema_ok", "tool_calls_ok"):
        assert key in report
    assert report["ok"] is True, report["errors"]
    assert report["model"] == config.model
    assert report["json_schema_ok"] is True and report["tool_calls_ok"] is True
    assert isinstance(report["tokens_per_s"], float) and report["tokens_per_s"] > 0
    assert isinstance(report["ttft_s"], float) and report["ttft_s"] >= 0
    return report
