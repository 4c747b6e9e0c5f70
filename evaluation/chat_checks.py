"""The checks `longtail eval-chat` applies to every turn, all computed from catalog text and
the turn's trace: what a suggestion must be (`Expect`), whether the final answer is grounded,
and whether an explanation claims a match the evidence does not show.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agent.agent import ShoppingAgent, TurnResult
from agent.grounding import GroundingChecker
from agent.session import Constraints, Session
from catalog.models import Product


class Expect(BaseModel):
    """What every suggestion of the turn must satisfy; empty fields check nothing."""

    model_config = ConfigDict(extra="forbid")

    category: str | None = None
    type: str | list[str] | None = None  # product type (attributes.type), or any of several
    words: list[str] = Field(default_factory=list)  # title or category has one of these
    exclude_words: list[str] = Field(default_factory=list)  # title has none of these
    min_price: float | None = None
    max_price: float | None = None
    brands: list[str] = Field(default_factory=list)  # every suggestion is one of these
    exclude_brands: list[str] = Field(default_factory=list)
    color: str | None = None  # at least one suggestion has this colour
    new_items: bool = True  # nothing shown in earlier turns, unless `details`
    details: int | None = None  # the answer is about #n of the previous list
    refers_to: int | None = None  # a tool was asked about #n of the previous list
    same_type_as: int | None = None  # suggestions share the type (else category) of #n
    cheaper_than_previous: bool = False  # each costs less than everything in the previous list
    out_of_catalog: bool = False  # the shop has none: say so; only labelled alternatives
    answer_excludes: list[str] = Field(default_factory=list)  # text the answer must not say
    min_results: int = 1  # not checked on out_of_catalog turns


# The answer says the shop has none of what was asked.
NOT_CARRIED = re.compile(
    r"\b(?:do not|don't|does not|doesn't|cannot|can't|could not|couldn't)\s+(?:carry|sell|"
    r"stock|have|offer|find)\b|\bnot (?:carried|sold|in (?:our|the|this) (?:catalog|shop|store))"
    r"|\bno \w+(?: \w+)? in (?:our|the|this) (?:catalog|shop|store)|\bfound nothing\b|"
    r"\bnothing (?:like that|that matches|matching)\b",
    re.IGNORECASE,
)
ALTERNATIVES = re.compile(r"\balternatives?\b|\binstead\b", re.IGNORECASE)


def word_pattern(word: str) -> re.Pattern[str]:
    """`word` (or phrase) as whole words, singular or plural: "pen" finds "Pens", not "pencil"."""
    stems = {word.lower()}
    if word.lower().endswith("es"):
        stems.add(word.lower()[:-2])
    if word.lower().endswith("s") and not word.lower().endswith("ss"):
        stems.add(word.lower()[:-1])
    alternatives = "|".join(re.escape(s) for s in sorted(stems, key=len, reverse=True))
    # A hyphen joins words ("anti-frizz" is not "frizz"); one before a space or the end is
    # punctuation ("Ink Cartridge- Black" says "cartridge").
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?:s|es)?(?!\w|-\w)", re.IGNORECASE)


def has_word(text: str, words: list[str]) -> bool:
    return any(word_pattern(w).search(text) for w in words)


def is_brand(product: Product, brands: list[str]) -> bool:
    """The product's brand is one of `brands`; with no brand on file, its title starts with one."""
    wanted = {b.casefold() for b in brands}
    if product.brand:
        return product.brand.casefold() in wanted
    title = product.title.casefold()
    return any(title.startswith(f"{b} ") for b in wanted)


def _kind_of(product: Product) -> str:
    return str(product.attributes.get("type") or product.category)


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
    if expect.answer_excludes:
        said = result.answer.lower()
        failures += [f"the answer says {w!r}" for w in expect.answer_excludes if w.lower() in said]
    if expect.refers_to is not None:
        failures += _referred(expect.refers_to, result, previous)
    if expect.out_of_catalog:
        if not NOT_CARRIED.search(result.answer):
            failures.append("out of catalog: the answer does not say the shop lacks it")
        if products and not ALTERNATIVES.search(result.answer):
            failures.append("out of catalog: suggestions shown without calling them alternatives")
    elif len(products) < expect.min_results:
        failures.append(f"{len(products)} suggestions, expected at least {expect.min_results}")
    if expect.details is not None:
        wanted = previous[expect.details - 1] if len(previous) >= expect.details else None
        if [p.item_id for p in products] != [wanted]:
            failures.append(f"details: expected #{expect.details} ({wanted})")
        return failures
    types = [expect.type] if isinstance(expect.type, str) else expect.type or []
    same_kind = None
    if expect.same_type_as is not None and len(previous) >= expect.same_type_as:
        same_kind = _kind_of(agent.product(previous[expect.same_type_as - 1]))
    ceiling = None
    if expect.cheaper_than_previous and previous:
        prices = [agent.product(i).price for i in previous]
        ceiling = min((p for p in prices if p is not None), default=None)
    for p in products:
        failures += _product_failures(p, expect, types, same_kind, ceiling, shown_before)
    if expect.color and products:
        colors = {str(p.attributes.get("color", "")).lower() for p in products}
        if expect.color.lower() not in colors:
            failures.append(f"no suggestion in {expect.color}")
    return failures


def _product_failures(
    p: Product,
    expect: Expect,
    types: list[str],
    same_kind: str | None,
    ceiling: float | None,
    shown_before: set[str],
) -> list[str]:
    failures = []
    kind = str(p.attributes.get("type") or "")
    text = f"{p.title} {p.category}"
    if ceiling is not None and (p.price is None or p.price >= ceiling):
        failures.append(f"{p.item_id} costs {p.price}, not below the earlier {ceiling}")
    if expect.category and p.category != expect.category:
        failures.append(f"{p.item_id} category {p.category!r}, expected {expect.category!r}")
    if types and kind not in types:
        failures.append(f"{p.item_id} is a {kind!r}, expected {' or '.join(types)}")
    if same_kind is not None and _kind_of(p) != same_kind:
        failures.append(f"{p.item_id} is a {_kind_of(p)!r}, not a {same_kind!r} like the one named")
    if expect.words and not has_word(text, expect.words):
        failures.append(f"{p.item_id} ({p.title[:60]!r}) has none of {expect.words}")
    if expect.exclude_words and has_word(p.title, expect.exclude_words):
        failures.append(f"{p.item_id} ({p.title[:60]!r}) is one of {expect.exclude_words}")
    if expect.max_price is not None and (p.price is None or p.price > expect.max_price):
        failures.append(f"{p.item_id} costs {p.price}, above {expect.max_price:g}")
    if expect.min_price is not None and (p.price is None or p.price < expect.min_price):
        failures.append(f"{p.item_id} costs {p.price}, below {expect.min_price:g}")
    if expect.brands and not is_brand(p, expect.brands):
        failures.append(f"{p.item_id} is {p.brand or p.title[:30]!r}, expected {expect.brands}")
    if expect.exclude_brands and is_brand(p, expect.exclude_brands):
        failures.append(f"{p.item_id} is {p.brand or p.title[:30]!r}, which was refused")
    if expect.new_items and p.item_id in shown_before:
        failures.append(f"{p.item_id} was already shown")
    return failures


def _referred(number: int, result: TurnResult, previous: list[str]) -> list[str]:
    """The turn looked at #n of the previous list: a tool was called with its id."""
    if len(previous) < number:
        return [f"#{number} referred to, but only {len(previous)} were shown"]
    wanted = previous[number - 1]
    asked = {
        str(value)
        for call in result.trace.tool_calls
        for key, value in call.arguments.items()
        if key in ("item_id", "anchor")
    }
    return [] if wanted in asked else [f"no tool looked at #{number} ({wanted})"]


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
