"""Step 1 of a turn: what does the shopper want?

Misspelt words are mended to the catalog's own words; the rules read the message against
the catalog's vocabulary; in guided mode the LLM fills the intent JSON (with concrete
product kinds for an indirect need); the two are merged (the message and the catalog
decide); and the session's constraints are revised into this turn's plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from langchain_core.language_models import BaseChatModel
from pydantic import ValidationError

from agent.intent import EXPAND_SCHEMA, Intent, intent_schema
from agent.llm_steps import LLMGate, LLMStepError, json_step
from agent.message_rules import Reading, read_message
from agent.session import Plan, Session, plan_turn
from agent.trace import TurnTrace
from agent.understanding import catalog_kinds, merge_intent
from agent.vocabulary import STOP, Vocabulary, stem, tokens
from catalog.models import Product
from serving.prompts import PromptLibrary


@dataclass
class Understanding:
    plan: Plan
    intent: Intent
    reading: Reading
    message: str  # with misspelt words mended
    corrections: dict[str, str] = field(default_factory=dict)
    unknown_words: list[str] = field(default_factory=list)  # words the catalog never uses
    out_of_catalog: bool = False  # the request's words are none of the catalog's
    new_request: bool = False  # a request of its own, not a change to the one in force


def mend(message: str, vocabulary: Vocabulary) -> tuple[str, dict[str, str]]:
    """The message with each misspelt word replaced by the catalog word it most likely
    means ("scientfic calculater" -> "scientific calculator"), and the replacements."""
    corrections: dict[str, str] = {}

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        better = vocabulary.mend(word)
        if better is None:
            return word
        corrections[word] = better
        return better

    return re.sub(r"[A-Za-z]+(?:['’][A-Za-z]+)*", fix, message), corrections  # L'Oreal whole


class Understander:
    def __init__(
        self,
        vocabulary: Vocabulary,
        llm: BaseChatModel | None,
        prompts: PromptLibrary,
        gate: LLMGate,
        config: Any,
        product: Any,
    ) -> None:
        self.vocabulary = vocabulary
        self.llm = llm
        self.prompts = prompts
        self.gate = gate
        self.config = config
        self.product = product
        self.schema = intent_schema(vocabulary, max_ref=max(config.k, 5))

    def render(self, name: str, **values: Any) -> tuple[list[dict[str, str]], str]:
        prompt = self.prompts.get(name, self.config.prompt_versions.get(name))
        return prompt.render(**values), prompt.key

    def context(self, session: Session) -> dict[str, str]:
        """The last list and the request in force, short (every token is prompt time)."""
        shown = "; ".join(
            f"#{n} {short_name(self.product(i))}" for n, i in enumerate(session.last_shown, 1)
        )
        current = session.constraints.describe() if session.constraints.query else "none"
        return {"shown": shown or "none", "current": current}

    def understand(self, session: Session, message: str, trace: TurnTrace) -> Understanding:
        first = not session.constraints.query  # nothing in force: this is the request
        mended, corrections = mend(message, self.vocabulary)
        trace.corrections = corrections
        reading = read_message(mended, self.vocabulary)
        trace.intent_rules = reading.intent.model_dump()
        llm_intent = None
        if self.config.mode == "guided":
            llm_intent = self.llm_intent(session, mended, trace)
        intent = merge_intent(llm_intent, reading, mended, self.vocabulary)
        # Words the catalog never uses name a product it does not have ("a laptop for
        # college" in a beauty shop), whatever kinds an LLM proposes instead (computer mice
        # there were nail polishes): no expansion, and "we don't carry" below.
        words = self.vocabulary.content_words(intent.query)
        unknown = [w for w in words if not self.vocabulary.known(w)]
        out = bool(words) and len(unknown) == len(words) and not reading.product_type
        modified = unknown_modifier(mended, reading.product_type, self.vocabulary)
        if modified:  # "a coffee maker" where the shop has label makers only
            out, unknown = True, [modified]
        if llm_intent is not None and not out and self._is_need(intent, reading, first):
            intent.products = self.expand(mended, trace)
        trace.intent = intent.model_dump()
        trace.expansion = list(intent.products)
        plan = plan_turn(
            session,
            intent,
            reading,
            self.product,
            kind_of=self.vocabulary.kind_of,
            known=self.vocabulary.known,
        )
        new_request = plan.kind == "rank" and (intent.action == "search" or first)
        out = out and new_request
        return Understanding(plan, intent, reading, mended, corrections, unknown, out, new_request)

    @staticmethod
    def _is_need(intent: Intent, reading: Reading, first: bool) -> bool:
        """A new request that names no kind of the catalog ("going on a beach holiday"), for
        which the intent step gave no product kinds: a need, a problem or an occasion to
        turn into kinds. (Asked also where the rules read a kind, the 0.5B model's kinds
        displaced it: "my heels are dry" gave heating pads first.)"""
        new = first or intent.action == "search"
        if intent.products or not new or "action" in reading.explicit:
            return False
        return not reading.product_type

    def expand(self, message: str, trace: TurnTrace) -> list[str]:
        """Concrete product kinds for a need (prompt `expand`); none when the LLM fails (the
        words alone are searched, as in reduced mode)."""
        try:
            return self.expansion(message, trace)
        except LLMStepError:
            return []

    def expansion(self, message: str, trace: TurnTrace) -> list[str]:
        """`expand`, raising LLMStepError when the LLM fails (agent/need_texts.py must not
        take a stopped server for a need without kinds)."""
        messages, key = self.render("expand", message=message)
        value = json_step(
            self.llm,
            self.gate,
            messages,
            EXPAND_SCHEMA,
            prompt=key,
            max_tokens=self.config.expand_max_tokens,
            calls=trace.llm_calls,
            purpose="expand",
        )
        return catalog_kinds([str(p) for p in value.get("products", [])], self.vocabulary)

    def llm_intent(self, session: Session, message: str, trace: TurnTrace) -> Intent | None:
        if self.llm is None:
            reduce(trace, "down: no LLM configured")
            return None
        messages, key = self.render(
            "intent",
            categories=", ".join(self.vocabulary.prompt_categories) or "none",
            message=message,
            **self.context(session),
        )
        try:
            value = json_step(
                self.llm,
                self.gate,
                messages,
                self.schema,
                prompt=key,
                max_tokens=self.config.intent_max_tokens,
                calls=trace.llm_calls,
            )
            intent = Intent.model_validate(value)
        except LLMStepError as exc:
            reduce(trace, exc.reason)
            return None
        except ValidationError as exc:
            reduce(trace, "invalid")
            trace.llm_calls[-1].ok, trace.llm_calls[-1].error = False, str(exc)[:200]
            return None
        trace.intent_llm = intent.model_dump()
        return intent


def unknown_modifier(message: str, kind: str, vocabulary: Vocabulary) -> str:
    """ "coffee maker" when the message names a one-word kind ("maker") right after a word
    the catalog never uses ("coffee"): a kind the shop does not have; else ""."""
    if not kind or " " in kind or vocabulary.typed:
        return ""
    words = tokens(message)
    for before, word in pairwise(words):
        named = stem(word) == kind and before.isalpha() and len(before) > 2
        if named and before not in STOP and not vocabulary.known(before):
            return f"{before} {word}"
    return ""


def reduce(trace: TurnTrace, reason: str) -> None:
    """Mark the turn as answered without the LLM, keeping the first reason."""
    trace.reduced_mode = True
    trace.reduced_reason = trace.reduced_reason or reason


def short_name(product: Product, price: bool = True) -> str:
    """Brand, type and price ("Alpenglow hiking backpack $84.99"): a third of a title's
    tokens, and prompt tokens are most of a turn's time on a CPU."""
    kind = product.attributes.get("type") or " ".join(product.title.split(",")[0].split()[:8])
    name = f"{product.brand} {kind}" if product.brand and product.brand not in kind else kind
    return f"{name} {format_price(product.price)}" if price and product.price is not None else name


def format_price(price: float | None) -> str:
    return "price on request" if price is None else f"${price:.2f}"
