"""Explanation sentences that claim a match the evidence does not show.

An explanation may say an item matches the request only if the item's catalog text shares a
word with the request; may say shoppers chose it together with X only if X is in the
shopper's history or the item the turn was about and a co-purchase signal ranked the item;
may say it follows a history item only if that item is in the history. An intro sentence
that names a suggested product must not attribute request words that product's text lacks
("The Brother HL-1440 Laser Printer offers a fountain pen"). A request's words are read by
`agent.vocabulary.request_words`, the agent's own reading, so "now" or "price" is filler to both.
"""

from __future__ import annotations

import re

from agent.agent import ShoppingAgent, TurnResult
from agent.vocabulary import request_words
from catalog.models import Product
from evaluation.chat_checks import has_word

MATCH_CLAIM = re.compile(
    r"close (?:in meaning )?to what you (?:described|asked|want)|"
    r"match(?:es|ing)? (?:your|what you)|what you (?:asked|are looking) for|"
    r"words you asked for|fits? (?:your|what you) (?:request|described|asked)|"
    r"exactly what you|as you (?:asked|described)",
    re.IGNORECASE,
)
TOGETHER_CLAIM = re.compile(
    r"(?:shoppers|people|customers) who (?:chose|bought|viewed) (?P<a>.+?) also (?:chose|bought)"
    r"|bought (?:together )?with (?P<b>.+?)(?: by \d+ shoppers?)?$",
    re.IGNORECASE,
)
FOLLOWS_CLAIM = re.compile(
    r"(?:your recent interest in|follows (?:your|the)|goes with your) (?P<x>.+)$", re.IGNORECASE
)
CO_PURCHASE_SIGNALS = ("cf", "knn", "als", "collab", "co_purchase", "copurchase", "complement")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+")
_LISTING = re.compile(r"^\d+\.\s")


def _product_text(product: Product) -> str:
    kind = product.attributes.get("type") or ""
    return f"{product.title} {product.category} {product.brand} {kind} {product.description}"


def _shares_word(product: Product, words: set[str]) -> bool:
    return bool(words) and has_word(_product_text(product), sorted(words))


def _co_purchase(result: TurnResult, item_id: str) -> bool:
    """A co-purchase signal ranked the item, or similar_items (CF) returned it this turn."""
    for candidate in result.trace.candidates:
        if candidate.item_id != item_id:
            continue
        signals = [k for k, v in candidate.contributions.items() if v > 0] + candidate.sources
        if any(s.lower().startswith(CO_PURCHASE_SIGNALS) for s in signals):
            return True
    return any(
        call.name == "similar_items" and item_id in call.summary.get("ids", [])
        for call in result.trace.tool_calls
    )


def _names_one_of(text: str, products: list[Product]) -> bool:
    """Every content word of the name is in one product's text (titles are often shortened)."""
    named = request_words(text)
    return bool(named) and any(
        all(has_word(_product_text(p), [w]) for w in named) for p in products
    )


def explanation_violations(
    agent: ShoppingAgent, result: TurnResult, history: list[str]
) -> list[str]:
    """Every sentence of this turn's explanations and intro that claims an unmet match.

    `history` is the shopper's history before the turn; the request is the message plus the
    query in force (a refinement keeps the earlier words)."""
    trace = result.trace
    wanted = request_words(f"{trace.message} {trace.constraints.get('query', '')}")
    wanted -= request_words(" ".join(trace.constraints.get("exclude_brands", [])))  # "not X"
    known = [agent.product(i) for i in history if agent.dataset.has_item(i)]
    about = {
        str(v)
        for call in trace.tool_calls
        for k, v in call.arguments.items()
        if k in ("item_id", "anchor") and v
    }
    known += [agent.product(i) for i in about if agent.dataset.has_item(i)]
    problems: list[str] = []
    for s in result.suggestions:
        product = agent.product(s.item_id)
        for sentence in _SENTENCE.split(s.explanation):
            problems += [
                f"{s.item_id}: {sentence!r} ({why})"
                for why in _unbacked(sentence, product, wanted, known, result)
            ]
    if trace.plan != "details":
        problems += _intro_claims(agent, result, wanted)
    return problems


def _unbacked(
    sentence: str,
    product: Product,
    wanted: set[str],
    known: list[Product],
    result: TurnResult,
) -> list[str]:
    why = []
    if MATCH_CLAIM.search(sentence) and not _shares_word(product, wanted):
        why.append(f"claims a match, but shares no word with {sorted(wanted)}")
    together = TOGETHER_CLAIM.search(sentence.rstrip(".;"))
    if together:
        other = together.group("a") or together.group("b") or ""
        if not _names_one_of(other, known):
            why.append(f"{other!r} is neither in the history nor the item asked about")
        elif not _co_purchase(result, product.item_id):
            why.append("no co-purchase signal ranked it")
    follows = FOLLOWS_CLAIM.search(sentence.rstrip(".;"))
    if follows and not _names_one_of(follows.group("x").split(";")[0], known):
        why.append(f"{follows.group('x')!r} is not in the history")
    return why


def _intro_claims(agent: ShoppingAgent, result: TurnResult, wanted: set[str]) -> list[str]:
    intro = [
        line
        for line in result.answer.splitlines()
        if line.strip() and not _LISTING.match(line) and not line.startswith("(Reduced mode")
    ]
    products = [agent.product(s.item_id) for s in result.suggestions]
    problems = []
    for sentence in _SENTENCE.split(" ".join(intro)):
        lowered = sentence.lower()
        named = [p for p in products if _mentions(lowered, p)]
        said = {w for w in wanted if has_word(sentence, [w])}
        for p in named:
            missing = sorted(w for w in said if not has_word(_product_text(p), [w]))
            if missing:
                problems.append(f"intro: {sentence!r} attributes {missing} to {p.item_id}")
    return problems


def _mentions(sentence: str, product: Product) -> bool:
    """The sentence names the product: its brand, or the first three words of its title."""
    if product.brand and len(product.brand) >= 2:
        return bool(re.search(rf"(?<!\w){re.escape(product.brand.lower())}(?!\w)", sentence))
    head = " ".join(product.title.lower().split()[:3])
    return head in sentence
