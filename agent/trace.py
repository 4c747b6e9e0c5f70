"""The record of one turn, as the staff console shows it: typed and JSON-serialisable.

`TurnTrace.model_dump_json()` is the log line; `TurnTrace.model_validate_json` reads it back.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.items import ItemSummary
from ranking.request import RankedItem


class ToolCall(BaseModel):
    name: str
    arguments: dict[str, Any]
    ms: float
    ok: bool = True
    error: str = ""
    summary: dict[str, Any] = Field(default_factory=dict)  # counts and ids, not whole payloads


class CandidateTrace(ItemSummary):
    """One ranked item with the per-signal scores that put it there."""

    model_config = ConfigDict(frozen=False)

    rank: int
    score: float
    tail: bool
    popularity: int
    sources: list[str]
    contributions: dict[str, float]
    similarity: float | None = None  # cosine of its text to the request (ranker's message)

    @classmethod
    def of_ranked(cls, ranked: RankedItem) -> CandidateTrace:
        return cls.model_validate({**ranked.as_dict(), "similarity": ranked.message_similarity})


class Suggestion(ItemSummary):
    """What the shopper sees per item: catalog facts and an evidence-based explanation."""

    model_config = ConfigDict(frozen=False)

    tail: bool
    explanation: str


class LLMCall(BaseModel):
    purpose: Literal["intent", "expand", "need", "answer", "tools"]
    prompt: str  # name.vN
    ms: float
    ok: bool
    error: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    raw: str = ""  # what the model returned (truncated)


class Violation(BaseModel):
    kind: Literal[
        "unknown_product",
        "wrong_price",
        "bad_reference",
        "wrong_attribute",
        "unsupported_claim",
        "prompt_echo",
    ]
    text: str
    detail: str


class TurnTrace(BaseModel):
    session_id: str
    turn: int
    mode: Literal["guided", "tools"]
    message: str
    reduced_mode: bool = False
    reduced_reason: str = ""
    intent_llm: dict[str, Any] | None = None
    intent_rules: dict[str, Any] = Field(default_factory=dict)
    intent: dict[str, Any] = Field(default_factory=dict)
    plan: str = ""
    constraints: dict[str, Any] = Field(default_factory=dict)
    corrections: dict[str, str] = Field(default_factory=dict)  # misspelt word -> catalog word
    expansion: list[str] = Field(default_factory=list)  # the LLM's product kinds for a need
    out_of_catalog: bool = False  # the catalog has nothing of what was asked
    bought_together: dict[str, int] = Field(default_factory=dict)  # item -> shoppers with anchor
    tool_calls: list[ToolCall] = Field(default_factory=list)
    llm_calls: list[LLMCall] = Field(default_factory=list)
    candidates: list[CandidateTrace] = Field(default_factory=list)
    suggestions: list[Suggestion] = Field(default_factory=list)
    llm_answer: str = ""  # the model's text before the grounding check
    grounding: list[Violation] = Field(default_factory=list)  # found in the model's text
    grounding_action: Literal["none", "kept", "repaired", "replaced"] = "none"
    answer: str = ""
    catalog_error: str = ""  # the ranker or the store failed this turn: why (the answer says so)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    started_at: float = Field(default_factory=time.time)

    @property
    def prompt_tokens(self) -> int:
        return sum(c.prompt_tokens for c in self.llm_calls)

    @property
    def completion_tokens(self) -> int:
        return sum(c.completion_tokens for c in self.llm_calls)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self.timings_ms[stage] = round(self.timings_ms.get(stage, 0.0) + elapsed, 2)
