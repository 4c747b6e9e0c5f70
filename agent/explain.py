"""One or two true sentences per suggestion, built only from evidence.

Each sentence names what matched: the constraints the product meets (checked against the
catalog), the words of the request its title or category has, the shoppers who bought it
with the item a complement goes with, the history item the intent encoder followed, how
few shoppers have bought a tail item. "Close to what you described" is said only when the
item's similarity to the request is above the threshold calibrated on the catalog
(`agent/calibration.py`); a claim with no evidence is never made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from agent.session import Constraints
from agent.vocabulary import Vocabulary, stem, tokens
from catalog.models import Product
from ranking.request import RankedItem

SIGNAL_GROUPS = {
    "semantic": ("semantic", "dense", "text", "content", "llm"),
    "words": ("sparse", "bm25", "keyword"),
    "intent": ("intent", "attention", "sequence"),
    "cf": ("cf", "knn", "als", "collab"),
}
CLOSE = "It is close to what you described"


def signal_group(name: str) -> str:
    lowered = name.lower()
    for group, needles in SIGNAL_GROUPS.items():
        if any(lowered.startswith(n) or f"_{n}" in lowered for n in needles):
            return group
    return "other"


def strongest_signal(item: RankedItem) -> str:
    """The signal group that contributed most to the item's score ("other" when none)."""
    totals: dict[str, float] = {}
    for name, value in item.contributions.items():
        group = signal_group(name)
        totals[group] = totals.get(group, 0.0) + float(value)
    positive = {g: v for g, v in totals.items() if v > 0 and g != "other"}
    if positive:
        return max(positive, key=positive.__getitem__)
    for source in item.sources:
        group = signal_group(source)
        if group != "other":
            return group
    return "other"


@dataclass
class Evidence:
    """What a turn knows beyond the item: the request's words, the calibrated threshold, the
    item a complement goes with and its co-purchase counts."""

    vocabulary: Vocabulary
    request: str = ""
    threshold: float | None = None
    anchor: str | None = None
    together: dict[str, int] = field(default_factory=dict)
    refused: tuple[str, ...] = ()  # brands and names the shopper refused
    anchor_name: str = ""  # how the complement's item is named ("the label maker")
    expanded: bool = False  # the LLM's kinds joined the query: its similarity is not the words'


def matched_constraints(
    product: Product, constraints: Constraints, vocabulary: Vocabulary | None = None
) -> list[str]:
    """The constraints this product really meets, in words (checked, not assumed)."""
    met: list[str] = []
    kind = constraints.product_type
    typed = str(product.attributes.get("type") or "")
    if kind and vocabulary is not None and not vocabulary.typed:
        if vocabulary.matches(product, kind):  # "It is a dry ..." only where it is one
            named = vocabulary.names_as_kind(product, kind)
            met.append(f"is a {kind}" if named else f'has "{kind}" in its listing')
    elif kind and typed.lower() == kind.lower():
        met.append(f"is a {typed}")
    elif constraints.category and product.category == constraints.category:
        met.append(f"is in {product.category}")
    price = product.price
    if price is not None:
        if constraints.max_price is not None and price <= constraints.max_price:
            met.append(f"costs ${price:.2f}, within your ${constraints.max_price:g} limit")
        elif constraints.min_price is not None and price >= constraints.min_price:
            met.append(f"costs ${price:.2f}")
    if constraints.brands and product.brand in constraints.brands:
        met.append(f"is from {product.brand}")
    if constraints.exclude_brands and product.brand not in constraints.exclude_brands:
        met.append(f"is not from {', '.join(constraints.exclude_brands)}")
    color = str(product.attributes.get("color") or "")
    for wanted in constraints.attributes:
        if wanted.lower() == color.lower():
            met.append(f"comes in {color}")
    if not met and vocabulary is not None:  # a need: the LLM's kind it is, and whose idea
        named = next((k for k in constraints.kinds if vocabulary.matches(product, k)), "")
        if named:
            met.append(f"is a {named}, a kind suggested for your need")
    return met


def shared_words(
    request: str, product: Product, vocabulary: Vocabulary, refused: tuple[str, ...] = ()
) -> list[str]:
    """Words of the request that the product's title or category has (plural-blind); not
    refused names, nor another brand's name (quoting "sharp" would name the brand Sharp)."""
    have = {stem(t) for t in tokens(f"{product.title} {product.category}")}
    skip = {t for name in refused for t in tokens(name)}
    own = set(tokens(product.brand))
    words = []
    for word in vocabulary.content_words(request):
        if word in skip or (vocabulary.brand(word) and word not in own):
            continue
        if stem(word) in have and word not in words:
            words.append(word)
    return words


def explain(
    item: RankedItem,
    product: Product,
    constraints: Constraints,
    title_of: Callable[[str], str],
    anchor: str | None = None,
    evidence: Evidence | None = None,
) -> str:
    """E.g. 'It is a fountain pen. Its listing says "fountain" and "pen", as you asked; only
    3 shoppers have bought it so far.'"""
    vocabulary = evidence.vocabulary if evidence is not None else None
    met = matched_constraints(product, constraints, vocabulary)
    first = f"It {_join(met[:2])}." if met else ""
    second = _why(item, product, title_of, anchor, evidence)
    tail = ""
    if item.tail:
        bought = item.popularity
        tail = (
            "no shopper has bought it yet, a new find"
            if bought == 0
            else f"only {bought} shopper{'s' if bought != 1 else ''} have bought it so far"
        )
        tail = tail.replace("1 shopper have", "1 shopper has")
    parts = [p for p in (second, tail) if p]
    rest = "; ".join(parts)
    if rest:
        rest = rest[0].upper() + rest[1:] + "."
    text = " ".join(p for p in (first, rest) if p)
    return text or "It is among the best-ranked items within your limits."


def _why(
    item: RankedItem,
    product: Product,
    title_of: Callable[[str], str],
    anchor: str | None,
    evidence: Evidence | None,
) -> str:
    """The one sentence of evidence for why it is here, strongest first."""
    if evidence is not None and item.item_id in evidence.together and evidence.anchor:
        shoppers = evidence.together[item.item_id]
        title_of(evidence.anchor)  # it is named: it counts as shown this turn
        with_what = evidence.anchor_name or title_of(evidence.anchor)
        if shoppers:
            plural = "s" if shoppers != 1 else ""
            return f"Bought together with {with_what} by {shoppers} shopper{plural}"
        return f"The catalog lists it as bought with {with_what}"
    signal = strongest_signal(item)
    driving = item.driving_history[0] if item.driving_history else anchor
    if signal == "cf" and driving:
        return f"Shoppers who chose {title_of(driving)} also chose it"
    if signal == "intent" and driving:
        return f"It follows {title_of(driving)} in your history"
    if anchor and signal == "semantic":
        return f"It is similar to {title_of(anchor)}"
    if evidence is None:
        return ""
    similarity = item.message_similarity
    close = (
        evidence.threshold is not None
        and similarity is not None
        and similarity >= evidence.threshold
        and not evidence.expanded
    )
    words = shared_words(evidence.request, product, evidence.vocabulary, evidence.refused)
    if words:
        quoted = " and ".join(f'"{w}"' for w in words[:3])
        also = "; it is close to what you described" if close else ""
        return f"Its listing says {quoted}, as you asked{also}"
    if close:
        return CLOSE
    return ""


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
