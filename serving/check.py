"""`longtail llm check`: what an OpenAI-compatible server can do for the agent, measured.

Runs, against one server: a plain reply (latency), a streamed reply (time to first token,
tokens per second), a JSON-schema-constrained intent extraction (validated with jsonschema)
and a forced native tool call (the tool name must be one offered, the arguments must match
its parameter schema). `ok` is true when all four work.
"""

from __future__ import annotations

import time
from typing import Any

import jsonschema

from serving.client import (
    LLMConfig,
    LLMError,
    complete_json,
    forced_tool_call,
    health_check,
    openai_client,
    server_flavor,
)

# Every string and list is capped: small models loop forever on unbounded ones.
INTENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "action": {"type": "string", "enum": ["search", "refine", "compare", "chitchat"]},
        "query": {"type": "string", "maxLength": 80},
        "category": {"type": ["string", "null"], "maxLength": 40},
        "max_price": {"type": ["number", "null"]},
        "brands": {
            "type": "array",
            "items": {"type": "string", "maxLength": 30},
            "maxItems": 4,
        },
    },
    "required": ["action", "query", "category", "max_price", "brands"],
    "additionalProperties": False,
}

INTENT_SYSTEM = (
    "You turn a shopper's message into a search intent. action: search (a new need), "
    "refine (narrow the last results), compare (weigh named products) or chitchat. "
    "query: the product words only. category: a one-word product category, or null. "
    "max_price: a number in dollars, or null. brands: the brand names the shopper named, "
    "else []."
)

SEARCH_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "search_products",
        "description": "Search the shop's catalog for products that match a need.",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "maxLength": 80},
                "max_price": {"type": "number"},
            },
            "required": ["query"],
        },
    },
}

SIMILAR_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "similar_items",
        "description": "Products similar to one product, given its id.",
        "parameters": {
            "type": "object",
            "properties": {"item_id": {"type": "string", "maxLength": 40}},
            "required": ["item_id"],
        },
    },
}

CHAT_PROMPT = [
    {"role": "system", "content": "You are a concise shopping assistant."},
    {"role": "user", "content": "In two sentences: why look beyond the bestsellers?"},
]
STREAM_PROMPT = [
    {"role": "system", "content": "You are a concise shopping assistant."},
    {"role": "user", "content": "Describe a good first camping tent in three sentences."},
]
TOOL_PROMPT = [
    {"role": "system", "content": "You are a shopping assistant. Use the tools."},
    {"role": "user", "content": "Find me a lightweight camping tent under 200 dollars."},
]
INTENT_MESSAGE = "I want a quiet mechanical keyboard under $80, maybe Keychron or Logitech."


def measure_stream(
    config: LLMConfig, messages: list[dict[str, Any]], max_tokens: int
) -> dict[str, Any]:
    """Stream one reply: time to first token, generated tokens and decode tokens per second."""
    client = openai_client(config)
    started = time.perf_counter()
    first: float | None = None
    last = started
    chunks = 0
    usage_tokens: int | None = None
    text: list[str] = []
    stream = client.chat.completions.create(
        model=config.model,
        messages=messages,
        max_tokens=max_tokens,
        temperature=0.0,
        stream=True,
        stream_options={"include_usage": True},
    )
    for chunk in stream:
        if chunk.usage is not None and chunk.usage.completion_tokens:
            usage_tokens = int(chunk.usage.completion_tokens)
        if chunk.choices and chunk.choices[0].delta.content:
            now = time.perf_counter()
            first = first if first is not None else now
            last = now
            chunks += 1
            text.append(chunk.choices[0].delta.content)
    total = time.perf_counter() - started
    tokens = usage_tokens or chunks
    ttft = (first - started) if first is not None else None
    decode_s = (last - first) if first is not None else 0.0
    # Tokens after the first, over the time after the first: the decode speed.
    tokens_per_s = (tokens - 1) / decode_s if tokens > 1 and decode_s > 0 else None
    return {
        "ttft_s": _r(ttft),
        "stream_s": _r(total),
        "completion_tokens": tokens,
        "tokens_per_s": _r(tokens_per_s, 2),
        "text": "".join(text),
    }


def extract_intent(config: LLMConfig, message: str) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    intent = complete_json(
        config,
        [{"role": "system", "content": INTENT_SYSTEM}, {"role": "user", "content": message}],
        INTENT_SCHEMA,
        name="intent",
        max_tokens=160,
    )
    return intent, time.perf_counter() - started


def run_check(config: LLMConfig, *, max_tokens: int = 64) -> dict[str, Any]:
    """Every probe, each failure recorded in `errors` rather than raised."""
    result: dict[str, Any] = {
        "url": config.base_url,
        "model": config.model,
        "server": None,
        "ok": False,
        "reachable": False,
        "latency_s": None,
        "ttft_s": None,
        "tokens_per_s": None,
        "completion_tokens": None,
        "chat_ok": False,
        "stream_ok": False,
        "json_schema_ok": False,
        "json_schema_latency_s": None,
        "tool_calls_ok": False,
        "tool_calls_latency_s": None,
        "errors": [],
    }
    health = health_check(config, generate=False)
    if not health.ok and health.models and config.model not in health.models:
        config = config.with_(model=health.models[0])  # check what the server does serve
        result["model"] = config.model
        health = health_check(config, generate=False)
    if not health.ok:
        result["status"] = health.status
        result["errors"].append(health.message)
        return result
    result["reachable"] = True
    flavor = server_flavor(config)
    result["server"] = flavor

    def probe(name: str, fn: Any) -> Any:
        try:
            return fn()
        except (LLMError, jsonschema.ValidationError, ValueError, KeyError) as exc:
            result["errors"].append(f"{name}: {exc}")
        except Exception as exc:  # an SDK error we did not translate: still a failed probe
            result["errors"].append(f"{name}: {type(exc).__name__}: {exc}")
        return None

    def plain() -> None:
        started = time.perf_counter()
        response = openai_client(config).chat.completions.create(
            model=config.model, messages=CHAT_PROMPT, max_tokens=max_tokens, temperature=0.0
        )
        result["latency_s"] = _r(time.perf_counter() - started)
        text = response.choices[0].message.content or ""
        result["chat_ok"] = bool(text.strip())
        if not result["chat_ok"]:
            raise LLMError("the reply was empty")

    probe("chat", plain)

    stream = probe("stream", lambda: measure_stream(config, STREAM_PROMPT, max_tokens))
    if stream:
        result["stream_ok"] = bool(stream["text"].strip())
        for key in ("ttft_s", "tokens_per_s", "completion_tokens"):
            result[key] = stream[key]

    intent = probe("json_schema", lambda: extract_intent(config, INTENT_MESSAGE))
    if intent:
        result["json_schema_ok"] = True
        result["json_schema_latency_s"] = _r(intent[1])
        result["intent"] = intent[0]

    def tools() -> None:
        started = time.perf_counter()
        offered = [SEARCH_TOOL, SIMILAR_TOOL]
        calls = forced_tool_call(
            config, TOOL_PROMPT, offered, flavor=flavor, max_tokens=max(max_tokens, 96)
        )
        result["tool_calls_latency_s"] = _r(time.perf_counter() - started)
        if not calls:
            raise LLMError("the server returned no tool call")
        by_name = {t["function"]["name"]: t["function"]["parameters"] for t in offered}
        for call in calls:
            if call["name"] not in by_name:
                raise LLMError(f"the model called an unknown tool {call['name']!r}")
            jsonschema.validate(call["arguments"], by_name[call["name"]])
        result["tool_calls"] = calls
        result["tool_calls_ok"] = True

    probe("tool_calls", tools)
    result["ok"] = all(
        result[k] for k in ("chat_ok", "stream_ok", "json_schema_ok", "tool_calls_ok")
    )
    result["status"] = "ok" if result["ok"] else "degraded"
    return result


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


def summary_lines(result: dict[str, Any]) -> list[tuple[str, str]]:
    keys = [
        "url",
        "server",
        "model",
        "ok",
        "latency_s",
        "ttft_s",
        "tokens_per_s",
        "json_schema_ok",
        "json_schema_latency_s",
        "tool_calls_ok",
        "tool_calls_latency_s",
    ]
    return [(k, _show(result.get(k))) for k in keys]


def _show(value: Any) -> str:
    if value is None:
        return "-"
    return str(value)
