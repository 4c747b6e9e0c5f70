"""The conversation test set: scripted multi-turn chats with the constraints every turn's
suggestions must satisfy, and the checks and metrics `longtail eval-chat` reports.

A script is a YAML file (docs/agent.md documents the format):

    name: backpack-under-60
    user: u00012            # optional: a demo shopper whose logged history the agent sees
    history: [D00042]       # optional: item ids the shopper bought before
    turns:
      - say: I need a waterproof hiking backpack under $60
        expect: {type: hiking backpack, max_price: 60}
      - view: 1             # optional: the shopper opens #1 of the last list first
        say: not Wildgrove
        expect: {type: hiking backpack, max_price: 60, exclude_brands: [Wildgrove]}
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.agent import ShoppingAgent, TurnResult
from agent.grounding import GroundingChecker
from agent.session import Constraints, Session
from longtail.errors import LongtailError

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DIR = REPO / "tests" / "conversations"


class ScriptError(LongtailError):
    """A conversation file that does not parse or does not follow the format."""


class Expect(BaseModel):
    """What every suggestion of the turn must satisfy; empty fields check nothing."""

    model_config = ConfigDict(extra="forbid")

    category: str | None = None
    type: str | list[str] | None = None  # product type (attributes.type), or any of several
    min_price: float | None = None
    max_price: float | None = None
    brands: list[str] = Field(default_factory=list)  # every suggestion is one of these
    exclude_brands: list[str] = Field(default_factory=list)
    color: str | None = None  # at least one suggestion has this colour
    new_items: bool = True  # nothing shown in earlier turns, unless `details`
    details: int | None = None  # the answer is about #n of the previous list
    same_type_as: int | None = None  # suggestions share the type of #n of the previous list
    cheaper_than_previous: bool = False  # each costs less than everything in the previous list
    min_results: int = 1


class ScriptTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    say: str = Field(min_length=1, max_length=500)
    view: int | None = Field(None, ge=1)
    expect: Expect = Field(default_factory=Expect)


class Script(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    user: str | None = None
    history: list[str] = Field(default_factory=list)
    turns: list[ScriptTurn] = Field(min_length=1)


def load_scripts(folder: Path = DEFAULT_DIR) -> list[Script]:
    """Every `*.yaml` script in the folder, sorted by file name; a bad one is a ScriptError."""
    files = sorted(Path(folder).glob("*.yaml"))
    if not files:
        raise ScriptError(f"no conversation scripts (*.yaml) in {folder}")
    scripts = []
    for path in files:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            scripts.append(Script.model_validate(data))
        except yaml.YAMLError as exc:
            raise ScriptError(f"{path}: not YAML: {exc}") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ScriptError(f"{path}: {where}: {first['msg']}") from exc
    return scripts


def check_turn(
    agent: ShoppingAgent,
    expect: Expect,
    result: TurnResult,
    previous: list[str],
    shown_before: set[str],
) -> list[str]:
    """The constraints this turn breaks, in words; [] when every check passes."""
    failures: list[str] = []
    products = [agent.product(s.item_id) for s in result.suggestions]
    if len(products) < expect.min_results:
        failures.append(f"{len(products)} suggestions, expected at least {expect.min_results}")
    if expect.details is not None:
        wanted = previous[expect.details - 1] if len(previous) >= expect.details else None
        if [p.item_id for p in products] != [wanted]:
            failures.append(f"details: expected #{expect.details} ({wanted})")
        return failures
    types = [expect.type] if isinstance(expect.type, str) else expect.type or []
    if expect.same_type_as is not None and len(previous) >= expect.same_type_as:
        types = [str(agent.product(previous[expect.same_type_as - 1]).attributes.get("type"))]
    ceiling = None
    if expect.cheaper_than_previous and previous:
        prices = [agent.product(i).price for i in previous]
        ceiling = min(p for p in prices if p is not None)
    for p in products:
        kind = str(p.attributes.get("type") or "")
        if ceiling is not None and (p.price is None or p.price >= ceiling):
            failures.append(f"{p.item_id} costs {p.price}, not below the earlier {ceiling}")
        if expect.category and p.category != expect.category:
            failures.append(f"{p.item_id} category {p.category!r}, expected {expect.category!r}")
        if types and kind not in types:
            failures.append(f"{p.item_id} is a {kind!r}, expected {' or '.join(types)}")
        if expect.max_price is not None and (p.price is None or p.price > expect.max_price):
            failures.append(f"{p.item_id} costs {p.price}, above {expect.max_price:g}")
        if expect.min_price is not None and (p.price is None or p.price < expect.min_price):
            failures.append(f"{p.item_id} costs {p.price}, below {expect.min_price:g}")
        if expect.brands and p.brand not in expect.brands:
            failures.append(f"{p.item_id} is {p.brand}, expected {expect.brands}")
        if p.brand in expect.exclude_brands:
            failures.append(f"{p.item_id} is {p.brand}, which was refused")
        if expect.new_items and p.item_id in shown_before:
            failures.append(f"{p.item_id} was already shown")
    if expect.color and products:
        colors = {str(p.attributes.get("color", "")).lower() for p in products}
        if expect.color.lower() not in colors:
            failures.append(f"no suggestion in {expect.color}")
    return failures


def grounding_violations(
    checker: GroundingChecker, agent: ShoppingAgent, result: TurnResult, session: Session
) -> list[str]:
    """An independent check of the final answer: suggestions come from this turn's tool
    results at catalog prices, and the text names only those products and their prices."""
    trace = result.trace
    returned: set[str] = set(session.history)
    for call in trace.tool_calls:
        returned.update(call.summary.get("ids", []))
        if "item_id" in call.summary:
            returned.add(call.summary["item_id"])
    problems = []
    for s in result.suggestions:
        product = agent.product(s.item_id)
        if s.item_id not in returned:
            problems.append(f"{s.item_id} was not returned by any tool this turn")
        if s.price != product.price or s.title != product.title:
            problems.append(f"{s.item_id}: shown {s.title!r} at {s.price}, catalog differs")
    allowed = [agent.product(i) for i in returned if agent.dataset.has_item(i)]
    constraints = Constraints(**_constraint_fields(trace.constraints))
    for v in checker.check(
        result.answer,
        allowed,
        listed=len(result.suggestions),
        limits=constraints.limits,
        refused=constraints.exclude_brands,
        said=f"{trace.message} {constraints.query}",
    ):
        problems.append(f"{v.kind}: {v.text} ({v.detail})")
    return problems


def _constraint_fields(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: tuple(v) if isinstance(v, list) else v
        for k, v in values.items()
        if k in Constraints.__dataclass_fields__
    }


@dataclass
class TurnRecord:
    script: str
    turn: int
    message: str
    seconds: float
    satisfied: bool
    failures: list[str]
    grounding: list[str]
    reduced_mode: bool
    tail: list[bool]
    trace: dict[str, Any] = field(repr=False)


def run_script(agent: ShoppingAgent, script: Script, checker: GroundingChecker) -> list[TurnRecord]:
    session = agent.new_session(user_id=script.user, history=list(script.history))
    records = []
    for number, turn in enumerate(script.turns, 1):
        if turn.view is not None and len(session.last_shown) >= turn.view:
            session.view(session.last_shown[turn.view - 1])
        previous = list(session.last_shown)
        shown_before = set(session.shown)
        started = time.perf_counter()
        result = agent.turn(session, turn.say)
        seconds = time.perf_counter() - started
        failures = check_turn(agent, turn.expect, result, previous, shown_before)
        records.append(
            TurnRecord(
                script=script.name,
                turn=number,
                message=turn.say,
                seconds=seconds,
                satisfied=not failures,
                failures=failures,
                grounding=grounding_violations(checker, agent, result, session),
                reduced_mode=result.reduced_mode,
                tail=[s.tail for s in result.suggestions] if result.trace.plan != "details" else [],
                trace=result.trace.model_dump(mode="json"),
            )
        )
    return records


def summarize(records: list[TurnRecord]) -> dict[str, Any]:
    """The eval-chat report: the issue's keys first, then diagnostics."""
    seconds = np.array([r.seconds for r in records]) if records else np.zeros(1)
    tails = [t for r in records for t in r.tail]
    traces = [r.trace for r in records]
    llm_calls = [c for t in traces for c in t["llm_calls"]]
    intent_calls = [c for c in llm_calls if c["purpose"] == "intent"]
    answer_calls = [c for c in llm_calls if c["purpose"] == "answer"]
    return {
        "turns": len(records),
        "constraint_satisfaction": round(
            sum(r.satisfied for r in records) / max(len(records), 1), 4
        ),
        "grounding_violations": sum(len(r.grounding) for r in records),
        "tail_share": round(float(np.mean(tails)), 4) if tails else 0.0,
        "latency_p50_s": round(float(np.percentile(seconds, 50)), 3),
        "latency_p95_s": round(float(np.percentile(seconds, 95)), 3),
        "reduced_mode_turns": sum(r.reduced_mode for r in records),
        "scripts": len({r.script for r in records}),
        "suggestions": len(tails),
        "llm_intent_ok": sum(c["ok"] for c in intent_calls),
        "llm_intent_calls": len(intent_calls),
        "llm_answers_kept": sum(t["grounding_action"] == "kept" for t in traces),
        "llm_answers_repaired": sum(t["grounding_action"] == "repaired" for t in traces),
        "llm_answers_replaced": sum(t["grounding_action"] == "replaced" for t in traces),
        "mean_completion_tokens": {
            "intent": _mean([c["completion_tokens"] for c in intent_calls]),
            "answer": _mean([c["completion_tokens"] for c in answer_calls]),
        },
        "failures": [
            {"script": r.script, "turn": r.turn, "message": r.message, "problems": r.failures}
            for r in records
            if r.failures
        ],
        "grounding_problems": [
            {"script": r.script, "turn": r.turn, "problems": r.grounding}
            for r in records
            if r.grounding
        ],
    }


def _mean(values: list[int]) -> float:
    return round(float(np.mean(values)), 1) if values else 0.0


def evaluate(
    agent: ShoppingAgent, scripts: list[Script]
) -> tuple[dict[str, Any], list[TurnRecord]]:
    """Every script in a fresh session, after one untimed warm-up turn (the ranker's models
    load and the LLM server caches the system prompts once per process, not per turn)."""
    checker = GroundingChecker(agent.dataset.products)
    agent.turn(agent.new_session(), "warm-up: a tent")  # loads models, fills the prompt cache
    agent.gate.reset()
    records = [r for script in scripts for r in run_script(agent, script, checker)]
    return summarize(records), records
