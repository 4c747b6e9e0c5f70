"""The agent's LLM calls through LangChain, each one bounded, timed and never fatal.

A failure (server down, too slow, output that does not parse or match the schema) becomes an
`LLMStepError` with a short reason (`down`, `slow`, `invalid`, `error`) that the agent turns
into reduced mode. After a `down` or `slow` failure the gate stays shut for `cooldown_s`, so
a stopped server costs one failed call, not one per turn.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import jsonschema
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from agent.trace import LLMCall
from serving.client import json_schema_format

RAW_CHARS = 400
# llama.cpp parses tool calls itself and answers 500 with one of these when the model's output
# is not a well-formed call: the model's output failed, not the server.
MALFORMED_OUTPUT_HINTS = ("does not match the expected", "failed to parse")


class LLMStepError(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def malformed_tool_call(exc: BaseException) -> bool:
    """The server refused the model's output as a tool call (a resample may do better)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return "APIStatusError" in names and any(h in str(exc).lower() for h in MALFORMED_OUTPUT_HINTS)


def classify(exc: BaseException) -> str:
    """down | slow | invalid | error, from the exception's type (openai, httpx, ours)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & {"APITimeoutError", "TimeoutException", "TimeoutError", "ReadTimeout"}:
        return "slow"
    if names & {"APIConnectionError", "ConnectError", "ConnectionError", "LLMUnavailable"}:
        return "down" if getattr(exc, "status", "down") != "slow" else "slow"
    if names & {"JSONDecodeError", "ValidationError", "ValueError"}:
        return "invalid"
    if malformed_tool_call(exc):
        return "invalid"
    return "error"


def to_messages(messages: Sequence[Mapping[str, str]]) -> list[BaseMessage]:
    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [kinds[m["role"]](content=m["content"]) for m in messages]


@dataclass
class LLMGate:
    """Closed for `cooldown_s` after the server was down or too slow."""

    cooldown_s: float = 30.0
    closed_until: float = 0.0
    last_reason: str = ""

    def check(self) -> None:
        if time.monotonic() < self.closed_until:
            raise LLMStepError(self.last_reason, f"LLM skipped: it was {self.last_reason} recently")

    def failed(self, reason: str) -> None:
        if reason in ("down", "slow"):
            self.closed_until = time.monotonic() + self.cooldown_s
            self.last_reason = reason

    def reset(self) -> None:
        self.closed_until = 0.0


def _usage(message: Any) -> tuple[int, int]:
    usage = getattr(message, "usage_metadata", None) or {}
    return int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))


def json_step(
    model: BaseChatModel,
    gate: LLMGate,
    messages: Sequence[Mapping[str, str]],
    schema: Mapping[str, Any],
    *,
    prompt: str,
    max_tokens: int,
    calls: list[LLMCall],
    purpose: Literal["intent", "expand", "need"] = "intent",
) -> dict[str, Any]:
    """A JSON-schema-constrained reply, parsed and validated."""
    started = time.perf_counter()
    call = LLMCall(purpose=purpose, prompt=prompt, ms=0.0, ok=False)
    calls.append(call)
    try:
        gate.check()
        bound = model.bind(
            response_format=json_schema_format(schema, "intent"),
            max_tokens=max_tokens,
            temperature=0.0,
        )
        reply = bound.invoke(to_messages(messages))
        call.prompt_tokens, call.completion_tokens = _usage(reply)
        call.raw = str(reply.content)[:RAW_CHARS]
        value = json.loads(str(reply.content))
        jsonschema.validate(value, dict(schema))
    except LLMStepError as exc:
        call.error = str(exc)
        raise
    except Exception as exc:  # the degradation boundary: any failure means reduced mode
        reason = "invalid" if isinstance(exc, jsonschema.ValidationError) else classify(exc)
        gate.failed(reason)
        call.error = (
            f"{reason}: {str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}"
        )
        raise LLMStepError(reason, call.error) from exc
    finally:
        call.ms = round((time.perf_counter() - started) * 1000, 2)
    call.ok = True
    return value


def text_step(
    model: BaseChatModel,
    gate: LLMGate,
    messages: Sequence[Mapping[str, str]],
    *,
    prompt: str,
    max_tokens: int,
    calls: list[LLMCall],
    on_token: Callable[[str], None] | None = None,
) -> str:
    """A free-text reply, streamed token by token to `on_token` when given."""
    started = time.perf_counter()
    call = LLMCall(purpose="answer", prompt=prompt, ms=0.0, ok=False)
    calls.append(call)
    try:
        gate.check()
        bound = model.bind(max_tokens=max_tokens)
        lc_messages = to_messages(messages)
        if on_token is None:
            reply = bound.invoke(lc_messages)
            text = str(reply.content)
            call.prompt_tokens, call.completion_tokens = _usage(reply)
        else:
            parts: list[str] = []
            for chunk in bound.stream(lc_messages):
                piece = str(chunk.content)
                if piece:
                    parts.append(piece)
                    on_token(piece)
                prompt_tokens, completion_tokens = _usage(chunk)
                call.prompt_tokens += prompt_tokens
                call.completion_tokens += completion_tokens
            text = "".join(parts)
        call.raw = text[:RAW_CHARS]
    except LLMStepError as exc:
        call.error = str(exc)
        raise
    except Exception as exc:  # the degradation boundary
        reason = classify(exc)
        gate.failed(reason)
        call.error = (
            f"{reason}: {str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}"
        )
        raise LLMStepError(reason, call.error) from exc
    finally:
        call.ms = round((time.perf_counter() - started) * 1000, 2)
    call.ok = True
    return text


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0][:200] if text else type(exc).__name__
