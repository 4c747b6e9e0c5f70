"""A TurnTrace as the console's tables: tool calls, candidates with per-signal scores, timings."""

from __future__ import annotations

import json

from agent.trace import TurnTrace

TOOL_HEADERS = ["tool", "arguments", "ms", "ok", "summary"]
TIMING_HEADERS = ["stage", "ms"]
LLM_HEADERS = ["purpose", "prompt", "ms", "ok", "tokens in", "tokens out", "error"]
FIXED = ["rank", "item_id", "title", "price", "brand", "score", "tail", "popularity", "sources"]


def tool_rows(trace: TurnTrace) -> list[list[object]]:
    return [
        [c.name, json.dumps(c.arguments), c.ms, c.ok, json.dumps(c.summary)[:200]]
        for c in trace.tool_calls
    ]


def candidate_table(trace: TurnTrace) -> tuple[list[str], list[list[object]]]:
    """One row per ranked candidate; one column per signal that contributed to any of them."""
    signals = sorted({s for c in trace.candidates for s in c.contributions})
    rows = [
        [
            c.rank,
            c.item_id,
            c.title,
            c.price,
            c.brand,
            round(c.score, 4),
            c.tail,
            c.popularity,
            ", ".join(c.sources),
            *[round(c.contributions.get(s, 0.0), 4) for s in signals],
        ]
        for c in trace.candidates
    ]
    return [*FIXED, *signals], rows


def timing_rows(trace: TurnTrace) -> list[list[object]]:
    rows: list[list[object]] = [[stage, ms] for stage, ms in trace.timings_ms.items()]
    rows += [[f"llm {c.purpose} ({c.prompt})", c.ms] for c in trace.llm_calls]
    rows += [[f"tool {c.name}", c.ms] for c in trace.tool_calls]
    return rows


def llm_rows(trace: TurnTrace) -> list[list[object]]:
    return [
        [c.purpose, c.prompt, c.ms, c.ok, c.prompt_tokens, c.completion_tokens, c.error]
        for c in trace.llm_calls
    ]


def tail_knob(trace: TurnTrace) -> object:
    """The knob the ranking ran with (the rank tool's argument; None: the ranker's default)."""
    for call in trace.tool_calls:
        if call.name == "rank_candidates":
            knob = call.arguments.get("tail_knob")
            return "the ranker's default" if knob is None else knob
    return None


def intent_view(trace: TurnTrace) -> dict[str, object]:
    return {
        "intent": trace.intent,
        "from the LLM": trace.intent_llm,
        "from the rules": trace.intent_rules,
        "plan": trace.plan,
        "constraints": trace.constraints,
        "reduced_mode": trace.reduced_mode,
        "reduced_reason": trace.reduced_reason,
        "grounding": trace.grounding_action,
        "tail_knob": tail_knob(trace),
    }
