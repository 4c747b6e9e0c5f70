"""One or two true sentences per suggestion, built only from evidence: which constraints it
meets (checked against the catalog), which signal ranked it, whether it is a tail find."""

from __future__ import annotations

from collections.abc import Callable

from agent.session import Constraints
from catalog.models import Product
from ranking.request import RankedItem

SIGNAL_GROUPS = {
    "semantic": ("semantic", "dense", "text", "content", "llm"),
    "words": ("sparse", "bm25", "keyword"),
    "intent": ("intent", "attention", "sequence"),
    "cf": ("cf", "knn", "als", "collab"),
}


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


def matched_constraints(product: Product, constraints: Constraints) -> list[str]:
    """The constraints this product really meets, in words (checked, not assumed)."""
    met: list[str] = []
    kind = str(product.attributes.get("type") or "")
    if constraints.product_type and kind.lower() == constraints.product_type.lower():
        met.append(f"is a {kind}")
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
    return met


def explain(
    item: RankedItem,
    product: Product,
    constraints: Constraints,
    title_of: Callable[[str], str],
    anchor: str | None = None,
) -> str:
    """E.g. "It is a tent and costs $89.99, within your $100 limit. Shoppers who chose X also
    chose it; a lesser-known find." """
    met = matched_constraints(product, constraints)
    first = f"It {_join(met[:2])}." if met else f"It is a {product.category or 'match'} pick."
    signal = strongest_signal(item)
    driving = item.driving_history[0] if item.driving_history else anchor
    if signal == "cf" and driving:
        second = f"Shoppers who chose {title_of(driving)} also chose it"
    elif signal == "intent" and driving:
        second = f"It fits your recent interest in {title_of(driving)}"
    elif signal == "words":
        second = "Its description uses the words you asked for"
    elif anchor and signal == "semantic":
        second = f"It is close to {title_of(anchor)}"
    else:
        second = "It is close in meaning to what you described"
    tail = "; a lesser-known find" if item.tail else ""
    return f"{first} {second}{tail}."


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
