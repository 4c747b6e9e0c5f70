"""Step 2 of a turn: run the plan over the tools and return the ranked items to show.

rank: the request's words (and, for an indirect need, the LLM's product kinds as the
ranker's `llm_texts`) go to `rank_candidates`; items of the kind the shopper named are kept
(a deeper search with the bare kind fills a short list), a soft category or the LLM's
kinds only order them. similar: anchored on the item. complement: what shoppers bought
with the item (co-purchases, then the catalog's also-bought list), of another kind.
details: the item itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from agent.services import Services
from agent.session import Constraints, Plan
from agent.tools import (
    BoughtTogetherArgs,
    ProductDetailsArgs,
    RankCall,
    SimilarItemsArgs,
    Toolbox,
    ToolError,
    UserHistoryArgs,
)
from agent.trace import TurnTrace
from agent.vocabulary import Vocabulary, stem, tokens
from catalog.dataset import tail_mask
from catalog.models import Product
from core.errors import ServiceUnavailable
from core.filters import Filters
from core.items import ItemSummary
from ranking.request import RankedItem

log = logging.getLogger("longtail.agent")

MAX_RANK_DEPTH = 100  # the hybrid ranker's largest k


@dataclass
class Retrieved:
    items: list[RankedItem] = field(default_factory=list)
    anchor: str | None = None  # the item a complement goes with
    together: dict[str, int] = field(default_factory=dict)  # item -> shoppers with the anchor


class Retriever:
    def __init__(self, services: Services, vocabulary: Vocabulary, config: Any) -> None:
        self.services = services
        self.vocabulary = vocabulary
        self.config = config
        self._counts: Any = None

    def product(self, item_id: str) -> Product:
        return self.services.ranker.product(item_id)

    def run(self, plan: Plan, toolbox: Toolbox, trace: TurnTrace) -> Retrieved:
        """details → product_details; complement → bought_together; similar → similar_items
        then rank; else rank. A failing back end gives an empty list, never an exception."""
        try:
            if toolbox.session.history:
                toolbox.user_history(UserHistoryArgs(limit=20))
            if plan.kind == "details" and plan.anchor:
                toolbox.product_details(ProductDetailsArgs(item_id=plan.anchor))
                return Retrieved()
            if plan.kind == "complement":
                return self._complements(plan, toolbox, trace)
            if plan.kind == "similar" and plan.anchor:
                toolbox.similar_items(SimilarItemsArgs(item_id=plan.anchor, k=5))
            if plan.anchor:
                toolbox.product_details(ProductDetailsArgs(item_id=plan.anchor))
            return Retrieved(self._ranked(plan, toolbox))
        except ToolError as exc:
            log.warning("a tool failed in turn %s: %s", trace.turn, exc)
            if isinstance(exc.__cause__, ServiceUnavailable):
                trace.catalog_error = str(exc)
        except Exception as exc:  # a back-end bug must not end the conversation; logged in full
            log.exception("the plan failed in turn %s", trace.turn)
            trace.catalog_error = f"{type(exc).__name__}: {exc}"[:300]
        return Retrieved()

    # ------------------------------------------------------------------ rank
    def _ranked(self, plan: Plan, toolbox: Toolbox) -> list[RankedItem]:
        constraints = plan.constraints
        depth = self.config.k * self.config.overfetch
        query = constraints.query or constraints.product_type
        # A plain request for a kind is what the ranker's message weights were learned on;
        # "more like #2" (an anchor) and complements keep the hand-set weights.
        named = constraints.product_type if plan.kind == "rank" and not plan.anchor else ""
        items = self._rank(toolbox, plan, query, depth, named)
        kind = constraints.product_type
        if len(items) < self.config.k and kind and query != kind:
            # The query's other words pulled in other kinds ("waterproof hiking" finds
            # boots): ask again with the bare kind, as deep as the ranker goes.
            seen = {i.item_id for i in items}
            more = self._rank(toolbox, plan, kind, MAX_RANK_DEPTH, named)
            items += [i for i in more if i.item_id not in seen]
        return items

    def _rank(
        self, toolbox: Toolbox, plan: Plan, query: str, k: int, named: str = ""
    ) -> list[RankedItem]:
        constraints = plan.constraints
        texts = list(constraints.kinds)
        if texts:  # an indirect need: the LLM's kinds are what to look for, beside the words
            query = "; ".join([query, *texts]) if query else "; ".join(texts)
        toolbox.rank(
            RankCall(
                query=query[:200],
                filters=constraints.filters,
                k=k,
                tail_knob=self.config.tail_knob,
                anchor=plan.anchor if plan.kind == "similar" else None,
                llm_texts=tuple(texts),
                kind=named[:100],
            )
        )
        items = list(toolbox.last_rank.items) if toolbox.last_rank else []
        return self.prefer_wanted(items, constraints)

    def prefer_wanted(self, items: list[RankedItem], constraints: Constraints) -> list[RankedItem]:
        """Only items of the kind the shopper named (the ranker sees it only as words, so
        its list drifts to related kinds); then, in rank order within each group, the
        asked-for colour, the LLM's kinds and its category guess first."""
        vocabulary = self.vocabulary
        kind = constraints.product_type
        items = [i for i in items if not refused(self.product(i.item_id), constraints)]
        if kind:
            exact = [i for i in items if vocabulary.matches(self.product(i.item_id), kind)]
            head = vocabulary.head(kind)
            if len(exact) < self.config.k and head != kind:  # other calculators, if not scientific
                taken = {i.item_id for i in exact}
                exact += [
                    i
                    for i in items
                    if i.item_id not in taken and vocabulary.matches(self.product(i.item_id), head)
                ]
            items = exact
        kinds = list(constraints.kinds)  # whole phrases: "pimples cream" is not any cream

        def preference(item: RankedItem) -> tuple[bool, bool, bool]:
            product = self.product(item.item_id)
            color = str(product.attributes.get("color") or "").lower()
            return (
                bool(constraints.attributes) and color not in constraints.attributes,
                bool(kinds) and not any(vocabulary.matches(product, k) for k in kinds),
                bool(constraints.soft_category) and product.category != constraints.soft_category,
            )

        return sorted(items, key=preference)

    # ------------------------------------------------------------------ complements
    def _complements(self, plan: Plan, toolbox: Toolbox, trace: TurnTrace) -> Retrieved:
        """What goes with the anchor: items its shoppers also bought, of another kind than
        the anchor, within the shopper's limits; a kind named in the message narrows them."""
        constraints = plan.constraints
        named = constraints.product_type  # the kind this message names, if any
        anchor = plan.anchor
        if named and (anchor is None or not self._is(anchor, named)):
            # "what goes well with my label maker?": that item of the history or the list
            session = toolbox.session
            mine = [i for i in [*session.history, *session.last_shown] if self._is(i, named)]
            anchor = mine[-1] if mine else None
            if anchor is None:  # none yet: the best match of the words is what it goes with
                found = self._rank(toolbox, replace(plan, kind="rank"), named, self.config.k)
                anchor = found[0].item_id if found else None
        if anchor is None:
            return Retrieved()
        if named and self._is(anchor, named):
            constraints = replace(constraints, product_type="")  # the kind is the anchor's
        toolbox.product_details(ProductDetailsArgs(item_id=anchor))
        result = toolbox.bought_together(BoughtTogetherArgs(item_id=anchor, k=50))
        own = self.vocabulary.head(self.vocabulary.kind_of(self.product(anchor)))
        wanted = constraints.product_type
        allowed = constraints.filters
        shown = set(toolbox.session.shown) | set(toolbox.session.history) | {anchor}
        together: dict[str, int] = {}
        for entry in result["items"]:
            product = self.product(entry["item_id"])
            if product.item_id in shown or not passes(product, allowed):
                continue
            if refused(product, constraints):
                continue
            if own and self.vocabulary.matches(product, own):
                continue  # more of the anchor's own kind is not a complement
            if wanted and not self.vocabulary.matches(product, wanted):
                continue
            together[product.item_id] = int(entry["shoppers"])
        listed = set(self._also_bought(anchor))
        # Both signals first (co-purchased and on the catalog's list); then items whose title
        # says a word of the message or of the anchor's kind ("label tape" with a label maker,
        # "shipping labels" for "shipping parcels": a log's one or two shoppers are weaker
        # evidence than that); then by shoppers; then the nearest in the category tree.
        path = category_path(self.product(anchor).category)
        said = {stem(w) for w in self.vocabulary.content_words(trace.message)}
        said |= {stem(w) for w in tokens(self.vocabulary.kind_of(self.product(anchor)))}

        def order_key(item_id: str) -> tuple[bool, bool, int, int]:
            product = self.product(item_id)
            return (
                item_id not in listed,
                not said & {stem(w) for w in tokens(product.title)},
                -together[item_id],
                -shared_depth(path, category_path(product.category)),
            )

        order = sorted(together, key=order_key)
        together = {i: together[i] for i in order}
        trace.bought_together = together
        dataset = self.services.ranker.dataset
        popularity = self._popularity()
        tail = tail_mask(popularity)
        items = []
        for rank, (item_id, shoppers) in enumerate(together.items(), 1):
            index = dataset.item_index(item_id)
            items.append(
                _complement_item(
                    self.product(item_id), shoppers, rank, int(popularity[index]), bool(tail[index])
                )
            )
        return Retrieved(items, anchor, together)

    def _also_bought(self, item_id: str) -> tuple[str, ...]:
        relations = getattr(self.services.ranker.dataset, "relations", {})
        return tuple(relations.get("also_bought", {}).get(item_id, ()))

    def _is(self, item_id: str, kind: str) -> bool:
        return self.vocabulary.matches(self.product(item_id), kind)

    def _popularity(self) -> Any:
        if self._counts is None:
            self._counts = self.services.ranker.dataset.item_popularity()
        return self._counts


def category_path(category: str) -> list[str]:
    return [part.strip().lower() for part in category.split(">") if part.strip()]


def shared_depth(a: list[str], b: list[str]) -> int:
    """How many leading parts two category paths share."""
    depth = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        depth += 1
    return depth


def refused(product: Product, constraints: Constraints) -> bool:
    """The title names a refused brand or name (brands of the Office data live in titles,
    not in a brand field): "not Panasonic" refuses "Panasonic KX-TG6545B ..."."""
    title = f" {' '.join(tokens(product.title))} "
    names = [*constraints.exclude_brands, *constraints.exclude_words]
    return any(f" {' '.join(tokens(w))} " in title for w in names)


def passes(product: Product, filters: Filters) -> bool:
    """The exact filters, checked on one product (for lists the ranker did not make)."""
    brand = product.brand.lower()
    if filters.categories and product.category not in filters.categories:
        return False
    if filters.brands and brand not in {b.lower() for b in filters.brands}:
        return False
    if brand and brand in {b.lower() for b in filters.exclude_brands}:
        return False
    price = product.price
    if filters.min_price is not None and (price is None or price < filters.min_price):
        return False
    return filters.max_price is None or (price is not None and price <= filters.max_price)


def _complement_item(
    product: Product, shoppers: int, rank: int, popularity: int, tail: bool
) -> RankedItem:
    return RankedItem(
        item=ItemSummary.of(product),
        rank=rank,
        score=float(shoppers),
        tail=tail,
        popularity=popularity,
        sources=("cf",) if shoppers else ("complement",),  # co-purchases; the catalog's list
        contributions={"cf": float(shoppers)} if shoppers else {"complement": 1.0},
    )
