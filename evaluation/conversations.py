"""Conversation sets: scripted multi-turn chats over one catalog, each turn with the
constraints its suggestions must satisfy, and the runner and metrics of `longtail eval-chat`.

A set is a folder of YAML scripts (docs/agent.md documents the format); the shipped sets
are tests/conversations/{demo,office,beauty}, each written for its own catalog:

    name: fountain-pen-not-lamy
    user: u00012            # optional: a shopper of the served data whose logged history counts
    history: [B0000AQO4Y]   # optional: item ids the shopper bought before
    turns:
      - say: a fountain pen, but not a Lamy
        expect: {words: [fountain pen], exclude_brands: [Lamy]}
      - view: 1             # optional: the shopper opens #1 of the last list first
        say: tell me more about the first one
        expect: {details: 1}
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.agent import ShoppingAgent
from agent.grounding import GroundingChecker
from catalog.models import Product
from core.errors import LongtailError
from evaluation.chat_checks import Expect, check_turn, grounding_violations, has_word
from evaluation.explanation_audit import explanation_violations

SETS_DIR = Path(__file__).resolve().parents[1] / "tests" / "conversations"
SET_NAMES = ("demo", "office", "beauty")
DEFAULT_DIR = SETS_DIR / "demo"


class ScriptError(LongtailError):
    """A conversation file that does not parse or does not follow the format."""


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


def set_folder(name_or_path: str) -> Path:
    """A shipped set by name (demo, office, beauty) or a folder of scripts."""
    if name_or_path in SET_NAMES:
        return SETS_DIR / name_or_path
    folder = Path(name_or_path)
    if not folder.is_dir():
        raise ScriptError(
            f"--set {name_or_path!r}: not one of {', '.join(SET_NAMES)} and not a folder"
        )
    return folder


def catalog_problems(scripts: list[Script], products: list[Product]) -> list[str]:
    """What a set asks for that the catalog cannot show: expected words no item's title or
    category has, brands no item has, history ids not in the catalog. A set written for
    another catalog (or a typo in a script) fails here, before any turn runs."""
    ids = {p.item_id for p in products}
    texts = [f"{p.title} {p.category}" for p in products]
    brands = {p.brand.casefold() for p in products if p.brand}
    heads = {" ".join(p.title.casefold().split()[:2]) for p in products}
    problems = []
    for script in scripts:
        problems += [
            f"{script.name}: history item {i!r} is not in the catalog"
            for i in script.history
            if i not in ids
        ]
        for number, turn in enumerate(script.turns, 1):
            expect = turn.expect
            for word in expect.words:
                if not any(has_word(t, [word]) for t in texts):
                    problems.append(f"{script.name} turn {number}: no item has the word {word!r}")
            for brand in expect.brands + expect.exclude_brands:
                b = brand.casefold()
                if b not in brands and not any(h.startswith(b) for h in heads):
                    problems.append(f"{script.name} turn {number}: no item of brand {brand!r}")
    return problems


@dataclass
class TurnRecord:
    script: str
    turn: int
    message: str
    seconds: float
    satisfied: bool
    failures: list[str]
    grounding: list[str]
    explanations: list[str]
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
        history = list(session.history)
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
                explanations=explanation_violations(agent, result, history),
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
        "explanation_violations": sum(len(r.explanations) for r in records),
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
        "explanation_problems": [
            {"script": r.script, "turn": r.turn, "problems": r.explanations}
            for r in records
            if r.explanations
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
