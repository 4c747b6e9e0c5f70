"""Step 3 of a turn: the suggestions and the text the shopper reads.

The list (catalog titles and prices, evidence-based explanations) is built from the ranked
items, never generated; the LLM writes one introducing sentence, which is shown only after
the grounding check passed it, sentence by sentence. A request the catalog cannot serve is
answered honestly ("we don't carry that"), with at most clearly labelled alternatives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel

from agent.explain import Evidence, explain
from agent.grounding import GroundingChecker, prompt_echoes
from agent.llm_steps import LLMGate, LLMStepError, text_step
from agent.retrieve import Retrieved
from agent.session import Plan, Session
from agent.streaming import GroundedStream
from agent.tools import Toolbox
from agent.trace import CandidateTrace, Suggestion, TurnTrace, Violation
from agent.understand import Understander, Understanding, format_price, reduce, short_name
from agent.vocabulary import request_words, stem, tokens
from catalog.models import Product

REDUCED_NOTE = (
    "(Reduced mode: the language model is unavailable, so these suggestions come straight "
    "from the ranking with template explanations.)"
)
ALTERNATIVES = "Not what you asked for, but the closest items the catalog has:"


class Answerer:
    def __init__(
        self,
        understander: Understander,
        grounding: GroundingChecker,
        llm: BaseChatModel | None,
        gate: LLMGate,
        config: Any,
        product: Callable[[str], Product],
    ) -> None:
        self.understander = understander
        self.grounding = grounding
        self.llm = llm
        self.gate = gate
        self.config = config
        self.product = product

    # ------------------------------------------------------------------ suggestions
    def suggestions(
        self,
        understanding: Understanding,
        retrieved: Retrieved,
        toolbox: Toolbox,
        trace: TurnTrace,
    ) -> list[Suggestion]:
        plan = understanding.plan
        if plan.kind == "details" and plan.anchor:
            product = self.product(plan.anchor)
            return [Suggestion.of(product, tail=False, explanation=_facts(product))]
        ranked = list(toolbox.last_rank.items) if toolbox.last_rank else []
        if plan.kind == "complement":
            ranked = retrieved.items
        trace.candidates = [CandidateTrace.of_ranked(i) for i in ranked]
        vocabulary = self.understander.vocabulary
        evidence = Evidence(
            vocabulary=vocabulary,
            request=f"{understanding.message} {plan.constraints.query}",
            threshold=vocabulary.similarity_threshold,
            anchor=retrieved.anchor,
            together=retrieved.together,
            refused=(*plan.constraints.exclude_brands, *plan.constraints.exclude_words),
            anchor_name=self._name(retrieved.anchor),
            expanded=bool(plan.constraints.kinds),
        )
        suggestions = []
        for item in retrieved.items[: self.config.k]:
            product = self.product(item.item_id)
            text = explain(
                item,
                product,
                plan.constraints,
                title_of=lambda i: self._title_for(i, toolbox),
                anchor=plan.anchor if plan.kind != "complement" else None,
                evidence=evidence,
            )
            suggestions.append(Suggestion.of(product, tail=item.tail, explanation=text))
        return suggestions

    def _name(self, item_id: str | None) -> str:
        """ "the label maker": the item by its kind, short and in the shopper's words."""
        if item_id is None:
            return ""
        kind = self.understander.vocabulary.kind_of(self.product(item_id))
        return f"the {kind}" if kind else ""

    def _title_for(self, item_id: str, toolbox: Toolbox) -> str:
        product = self.product(item_id)
        toolbox.seen_items.setdefault(item_id, product)
        return product.title

    # ------------------------------------------------------------------ the text
    def answer(
        self,
        understanding: Understanding,
        suggestions: list[Suggestion],
        toolbox: Toolbox,
        trace: TurnTrace,
        on_token: Callable[[str], None] | None,
        message: str,
    ) -> str:
        plan = understanding.plan
        listing = "\n".join(
            f"{n}. {s.title} ({format_price(s.price)}): {s.explanation}"
            for n, s in enumerate(suggestions, 1)
        )
        template = _template_intro(understanding, suggestions, trace.catalog_error)
        intro = template
        allowed = list(toolbox.seen_items.values())
        llm_may_write = not understanding.out_of_catalog and plan.kind != "complement"
        if suggestions and llm_may_write and not trace.reduced_mode and self.llm is not None:
            intro = self._llm_intro(message, plan, suggestions, allowed, trace, on_token, intro)
        elif on_token is not None:
            on_token(intro)
        rest = [listing] if listing else []
        if trace.reduced_mode:
            rest.append(REDUCED_NOTE)
        if on_token is not None:
            for part in rest:
                on_token(f"\n{part}")
        return "\n".join([intro, *rest])

    def _llm_intro(
        self,
        message: str,
        plan: Plan,
        suggestions: list[Suggestion],
        allowed: list[Product],
        trace: TurnTrace,
        on_token: Callable[[str], None] | None,
        template: str,
    ) -> str:
        messages, key = self.understander.render(
            "answer",
            message=message,
            items=[
                {
                    "title": short_name(self.product(s.item_id), price=False),
                    "explanation": s.explanation,
                }
                for s in suggestions
            ],
        )
        instructions = [m["content"] for m in messages if m["role"] == "system"]
        stream = GroundedStream(
            lambda sentence: (
                self.grounding.check(
                    sentence,
                    allowed,
                    listed=len(suggestions),
                    limits=plan.constraints.limits,
                    refused=plan.constraints.exclude_brands,
                    said=f"{message} {plan.constraints.query}",
                )
                + prompt_echoes(sentence, instructions)
                + self._unbacked_words(sentence, message, plan, suggestions)
            ),
            emit=on_token,
        )
        try:
            text = text_step(
                self.llm,
                self.gate,
                messages,
                prompt=key,
                max_tokens=self.config.answer_max_tokens,
                calls=trace.llm_calls,
                on_token=stream.feed if on_token is not None else None,
            )
            if on_token is None:
                stream.feed(text)
            trace.llm_answer = text
        except LLMStepError as exc:
            reduce(trace, exc.reason)
        stream.close()
        trace.grounding = stream.removed
        if stream.kept:
            trace.grounding_action = "repaired" if stream.removed else "kept"
            return stream.text
        trace.grounding_action = "replaced"
        if on_token is not None:
            on_token(template)
        return template

    def _unbacked_words(
        self, sentence: str, message: str, plan: Plan, suggestions: list[Suggestion]
    ) -> list[Violation]:
        """A sentence that names a suggestion and says a word of the request its listing
        lacks ("The Safco organizer is great for the break room") claims an unmet match."""
        said = {stem(w) for w in request_words(f"{message} {plan.constraints.query}")}
        said -= {stem(t) for b in plan.constraints.exclude_brands for t in tokens(b)}
        words = {stem(t) for t in tokens(sentence)}
        found = []
        for s in suggestions:
            product = self.product(s.item_id)
            head = " ".join(tokens(product.title)[:3])
            named = (product.brand and product.brand.lower() in sentence.lower()) or (
                head and head in " ".join(tokens(sentence))
            )
            if not named:
                continue
            listing = {stem(t) for t in tokens(f"{product.title} {product.category}")}
            missing = sorted((said & words) - listing)
            if missing:
                found.append(
                    Violation(
                        kind="wrong_attribute",
                        text=", ".join(missing),
                        detail=f"{product.title} does not say {', '.join(missing)}",
                    )
                )
        return found


def remember(session: Session, plan: Plan, suggestions: list[Suggestion]) -> None:
    """The turn's constraints stay in force; what was shown is not shown again."""
    session.constraints = plan.constraints
    session.turns += 1
    ids = [s.item_id for s in suggestions]
    if plan.kind == "details":
        session.focus = plan.anchor
        return
    if ids:
        session.last_shown = ids
        session.shown.extend(i for i in ids if i not in session.shown)
    session.focus = plan.anchor if plan.kind in ("similar", "complement") else None


def _facts(product: Product) -> str:
    attributes = product.attributes
    extras = []
    for key in ("color", "material"):
        if attributes.get(key):
            extras.append(f"{key}: {attributes[key]}")
    if attributes.get("features"):
        extras.append("features: " + ", ".join(str(f) for f in attributes["features"]))
    tail = f" ({'; '.join(extras)})" if extras else ""
    by = f" by {product.brand}" if product.brand else ""
    return (
        f"{product.description}{tail}".strip() or f"A {product.category or 'catalog'} product{by}."
    )


def _template_intro(
    understanding: Understanding, suggestions: list[Suggestion], catalog_error: str
) -> str:
    plan = understanding.plan
    if plan.kind == "details" and suggestions:
        return f"Here is what the catalog says about {suggestions[0].title}:"
    if not suggestions and catalog_error:  # not the shopper's words: do not ask for others
        return "I cannot search the catalog right now. Please try again in a moment."
    if understanding.out_of_catalog:
        unknown = understanding.unknown_words
        said = " ".join(unknown) if 0 < len(unknown) <= 3 else "that"  # never echo a speech
        note = f" {ALTERNATIVES}" if suggestions else ""
        return f"Sorry, we don't carry {said} in this shop.{note}"
    if not suggestions:
        if plan.kind == "complement":
            return (
                "I found nothing that shoppers bought together with it within your limits. "
                "Try naming what you need with it."
            )
        return (
            f"I found nothing new for {_headline(plan, suggestions)}. Try a wider price "
            "range, another brand, or different words."
        )
    if plan.kind == "complement":
        return f"Here are {len(suggestions)} things shoppers bought together with it:"
    if plan.kind == "similar":
        return f"Here are {len(suggestions)} more like your pick:"
    return f"Here are {len(suggestions)} suggestions for {_headline(plan, suggestions)}:"


def _headline(plan: Plan, suggestions: list[Suggestion]) -> str:
    """What the list is, in words every suggestion bears out: the kind asked for and the
    price limits, not the shopper's raw words (which may be an injection)."""
    constraints = plan.constraints
    kind = constraints.product_type
    parts = [kind if kind else "your request"]
    if constraints.min_price is not None and constraints.max_price is not None:
        parts.append(f"between ${constraints.min_price:g} and ${constraints.max_price:g}")
    elif constraints.max_price is not None:
        parts.append(f"under ${constraints.max_price:g}")
    elif constraints.min_price is not None:
        parts.append(f"over ${constraints.min_price:g}")
    return ", ".join(parts)
