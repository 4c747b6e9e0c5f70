"""Multi-turn state: the constraints in force, what was shown, what the shopper viewed.

Constraints carry across turns and are revised by each turn's intent ("under 40 instead",
"not that brand"); items already shown are excluded unless the shopper asks about one;
viewed items join the behaviour history the ranker sees.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from agent.intent import Intent
from agent.message_rules import Reading
from catalog.models import Product
from core.filters import Filters


@dataclass(frozen=True)
class Constraints:
    """What every suggestion must satisfy (filters) and what it should be like (query)."""

    query: str = ""
    product_type: str = ""
    category: str = ""
    min_price: float | None = None
    max_price: float | None = None
    brands: tuple[str, ...] = ()
    exclude_brands: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()
    exclude_words: tuple[str, ...] = ()  # refused names that are no brand field: title words
    # Soft preferences: ranked first, never filtered on (the shopper did not say them).
    kinds: tuple[str, ...] = ()  # concrete kinds the LLM named for an indirect need
    soft_category: str = ""  # the LLM's category guess

    @cached_property
    def filters(self) -> Filters:
        """The exact part as the one filter type, built once and handed on to the ranker."""
        return Filters.checked(
            categories=(self.category,) if self.category else (),
            brands=self.brands,
            exclude_brands=self.exclude_brands,
            min_price=self.min_price,
            max_price=self.max_price,
        )

    @property
    def limits(self) -> tuple[float, ...]:
        """The price bounds in force, which an answer may quote as limits."""
        return tuple(v for v in (self.min_price, self.max_price) if v is not None)

    def describe(self) -> str:
        """A short phrase, e.g. "hiking backpack under $60, not Wildgrove"."""
        parts = [self.query or self.product_type or self.category or "products"]
        if self.min_price is not None and self.max_price is not None:
            parts.append(f"between ${self.min_price:g} and ${self.max_price:g}")
        elif self.max_price is not None:
            parts.append(f"under ${self.max_price:g}")
        elif self.min_price is not None:
            parts.append(f"over ${self.min_price:g}")
        if self.brands:
            parts.append(f"from {' or '.join(self.brands)}")
        refused = [*self.exclude_brands, *self.exclude_words]
        if refused:
            parts.append(f"not {', '.join(refused)}")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "product_type": self.product_type,
            "category": self.category,
            "min_price": self.min_price,
            "max_price": self.max_price,
            "brands": list(self.brands),
            "exclude_brands": list(self.exclude_brands),
            "attributes": list(self.attributes),
            "exclude_words": list(self.exclude_words),
            "kinds": list(self.kinds),
            "soft_category": self.soft_category,
        }


@dataclass
class Session:
    """One conversation; `history` is the shopper's behaviour (catalog item ids, oldest first)."""

    session_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    user_id: str | None = None
    history: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    constraints: Constraints = field(default_factory=Constraints)
    last_shown: list[str] = field(default_factory=list)  # the latest list, for "#2"
    shown: list[str] = field(default_factory=list)  # everything shown so far
    focus: str | None = None  # the item the shopper last asked about
    turns: int = 0

    def view(self, item_id: str, event: str = "view") -> None:
        """The shopper opened (or carted, bought) an item: it joins the behaviour history."""
        self.history.append(item_id)
        self.events.append(event)

    def resolve_ref(self, ref: int | None) -> str | None:
        """The item id that "#ref" (1-based; -1 = last) names in the latest list."""
        if ref is None or not self.last_shown:
            return None
        if ref == -1:
            return self.last_shown[-1]
        return self.last_shown[ref - 1] if 1 <= ref <= len(self.last_shown) else None


@dataclass(frozen=True)
class Plan:
    """What the agent does this turn: `kind` is rank, similar, complement or details."""

    kind: str
    constraints: Constraints
    anchor: str | None = None  # the referenced item (similar, details, cheaper)
    exclude: tuple[str, ...] = ()


def plan_turn(
    session: Session,
    intent: Intent,
    reading: Reading,
    product: Any,
    max_price_step: float = 0.01,
    kind_of: Any = None,
    known: Any = None,
) -> Plan:
    """Revise the session's constraints with the intent and choose the turn's plan.

    `product` maps an item id to its Product (for "cheaper than #2", "like #1"); `kind_of`
    a Product to its kind (default: its `attributes.type`); `known` tells catalog words
    (only they join a refined request). A first message is always a new request, so its
    words always reach the ranker.
    """
    current = session.constraints
    anchor = session.resolve_ref(intent.ref)
    if intent.action in ("details", "complement") and anchor is None and session.focus:
        anchor = session.focus
    action = intent.action
    if action == "complement" and anchor is None and session.last_shown:
        anchor = session.last_shown[0]
    if action in ("details", "similar") and anchor is None:
        action = "more" if action == "similar" else "refine"
    if action in ("refine", "more", "chat", "cheaper") and not current.query and intent.query:
        action = "search"  # nothing is in force yet: this is the request
    new_topic = action == "search" and (
        (reading.product_type and reading.product_type != current.product_type)
        or (intent.category and intent.category != current.category)
        or not current.query
    )
    base = Constraints() if new_topic else current
    constraints = _revise(base, intent, reading, new_topic, known)
    focus_item = anchor or session.focus or (session.last_shown[0] if session.last_shown else None)
    if reading.exclude_focus_brand and focus_item:
        brand = product(focus_item).brand
        if brand and brand not in constraints.exclude_brands:
            constraints = replace(
                constraints,
                exclude_brands=(*constraints.exclude_brands, brand),
                brands=tuple(b for b in constraints.brands if b != brand),
            )
    if action == "cheaper" and "max_price" not in reading.explicit:
        reference = [product(anchor)] if anchor else [product(i) for i in session.last_shown]
        prices = [p.price for p in reference if p.price is not None]
        if prices:
            ceiling = round(min(prices) - max_price_step, 2)
            floor = constraints.min_price
            constraints = replace(
                constraints,
                max_price=ceiling,
                min_price=floor if floor is not None and floor <= ceiling else None,
            )
    exclude = tuple(dict.fromkeys(session.shown))
    if action == "details" and anchor:
        return Plan("details", constraints, anchor, exclude)
    if action == "complement":
        constraints = replace(constraints, product_type=reading.product_type)
        # The kind named in "what ink goes with it" narrows the complements; the anchor
        # (when none is in the session: the best match of the words) is what they go with.
        return Plan("complement", constraints, anchor, exclude)
    if action == "similar" and anchor:
        anchored = _like(product(anchor), constraints, kind_of)
        return Plan("similar", anchored, anchor, exclude)
    return Plan("rank", constraints, anchor if action == "cheaper" else None, exclude)


def _revise(
    base: Constraints, intent: Intent, reading: Reading, new_topic: bool, known: Any = None
) -> Constraints:
    values = base
    if new_topic or (intent.query and reading.product_type):
        values = replace(
            values,
            query=intent.query,
            product_type=reading.product_type,
            kinds=tuple(intent.products),
        )
    else:  # a refinement's catalog words join the request ("for a left-handed writer")
        said = values.query.split()
        extra = [w for w in [*intent.query.split(), *intent.attributes] if w not in said]
        extra = [w for w in extra if known is None or known(w)]
        values = replace(values, query=" ".join([values.query, *extra]).strip()[:120])
    if intent.category:
        values = replace(values, category=intent.category)
    if intent.soft_category or new_topic:
        values = replace(values, soft_category=intent.soft_category)
    if reading.clear_prices:
        values = replace(values, min_price=None, max_price=None)
    if intent.max_price is not None:
        values = replace(values, max_price=intent.max_price)
        if values.min_price is not None and values.min_price > intent.max_price:
            values = replace(values, min_price=None)
    if intent.min_price is not None:
        values = replace(values, min_price=intent.min_price)
        if values.max_price is not None and values.max_price < intent.min_price:
            values = replace(values, max_price=None)
    if reading.clear_brands:
        values = replace(values, brands=())
    if intent.brands:
        values = replace(
            values,
            brands=tuple(intent.brands),
            exclude_brands=tuple(b for b in values.exclude_brands if b not in intent.brands),
        )
    if intent.exclude_brands:
        excluded = tuple(dict.fromkeys([*values.exclude_brands, *intent.exclude_brands]))
        values = replace(
            values,
            exclude_brands=excluded,
            brands=tuple(b for b in values.brands if b not in excluded),
        )
    if intent.attributes:
        values = replace(
            values, attributes=tuple(dict.fromkeys([*values.attributes, *intent.attributes]))
        )
    if reading.exclude_words:
        words = tuple(dict.fromkeys([*values.exclude_words, *reading.exclude_words]))
        values = replace(values, exclude_words=words)
    return values


def _like(anchor: Product, constraints: Constraints, kind_of: Any = None) -> Constraints:
    """Constraints for "more like #2": the anchor's kind, the shopper's limits (and the
    anchor's category where the catalog types its products)."""
    typed = str(anchor.attributes.get("type") or "")
    kind = typed or (kind_of(anchor) if kind_of is not None else "")
    features = anchor.attributes.get("features") or []
    query = " ".join([str(features[0]), kind]) if features and typed else typed or anchor.title
    return replace(
        constraints,
        query=query[:120],
        product_type=kind or constraints.product_type,
        category=(anchor.category or constraints.category) if typed else constraints.category,
        kinds=(),
    )
