"""The agent's tools: typed, schema-validated arguments in, structured data out.

The same functions serve both modes: guided mode calls them from its fixed plan, tool-calling
mode hands them to the model as LangChain tools. Every call is recorded in the turn's trace
with its arguments, timing and a summary of the result.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from langchain_core.tools import StructuredTool
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.services import Services
from agent.session import Session
from agent.trace import ToolCall, TurnTrace
from core.errors import LongtailError
from core.filters import FilterError, Filters
from core.items import ItemSummary
from ranking.request import RankRequest, RankResult


class ToolError(LongtailError):
    """A tool could not run with these arguments (unknown item, bad filter, missing service)."""


class FilterArgs(BaseModel):
    """The filters in the shape the model writes them in a tool call (one category, a few
    brands). Only the edges use it: the model's call becomes `Filters` (`exact`), and every
    call's trace record, guided or the model's, is written back in this shape (`of`)."""

    model_config = ConfigDict(extra="forbid")

    category: str = Field("", max_length=60, description="one catalog category, or empty")
    brands: list[str] = Field(default_factory=list, max_length=5, description="only these")
    exclude_brands: list[str] = Field(default_factory=list, max_length=5, description="not these")
    min_price: float | None = Field(None, ge=0)
    max_price: float | None = Field(None, ge=0)

    def exact(self) -> Filters:
        """The one filter type the search and the ranker apply (a bad value: FilterError)."""
        return Filters.checked(
            categories=(self.category,) if self.category else (),
            brands=tuple(self.brands),
            exclude_brands=tuple(self.exclude_brands),
            min_price=self.min_price,
            max_price=self.max_price,
        )

    @classmethod
    def of(cls, filters: Filters) -> FilterArgs:
        """The record of `filters` (the items already shown, excluded by the toolbox, are no
        argument); a tool call names one category at most."""
        if len(filters.categories) > 1:
            raise FilterError(f"a tool call names one category, got {list(filters.categories)}")
        return cls(
            category=filters.categories[0] if filters.categories else "",
            brands=list(filters.brands),
            exclude_brands=list(filters.exclude_brands),
            min_price=filters.min_price,
            max_price=filters.max_price,
        )


class SearchProductsArgs(BaseModel):
    query: str = Field(min_length=1, max_length=200, description="what the shopper wants")
    filters: FilterArgs = Field(default_factory=FilterArgs)
    k: int = Field(5, ge=1, le=20)


class SimilarItemsArgs(BaseModel):
    item_id: str = Field(min_length=1, max_length=128)
    k: int = Field(5, ge=1, le=20)


class UserHistoryArgs(BaseModel):
    limit: int = Field(10, ge=1, le=50)


class RankCandidatesArgs(BaseModel):
    query: str = Field("", max_length=200, description="what the shopper wants, in words")
    filters: FilterArgs = Field(default_factory=FilterArgs)
    k: int = Field(3, ge=1, le=100)
    tail_knob: float | None = Field(None, ge=0, le=1, description="0 accuracy .. 1 tail")
    anchor: str | None = Field(
        None, max_length=128, description="an item the result should be like"
    )
    llm_texts: list[str] = Field(
        default_factory=list, max_length=10, description="product kinds that would fit the need"
    )
    kind: str = Field("", max_length=100, description="the product kind the shopper named")

    def call(self) -> RankCall:
        """The model's call as the toolbox runs it: its filters parsed into `Filters`."""
        return RankCall(
            query=self.query,
            filters=self.filters.exact(),
            k=self.k,
            tail_knob=self.tail_knob,
            anchor=self.anchor,
            llm_texts=tuple(self.llm_texts),
            kind=self.kind,
        )


@dataclass(frozen=True)
class RankCall:
    """rank_candidates with the one filter type: guided mode hands the session's `Filters`
    on as they are; the model's `RankCandidatesArgs` becomes one at the edge."""

    query: str
    filters: Filters
    k: int
    tail_knob: float | None = None
    anchor: str | None = None
    llm_texts: tuple[str, ...] = ()
    kind: str = ""

    def arguments(self) -> RankCandidatesArgs:
        """The trace's record, in the shape (and within the limits) of the model's call."""
        return RankCandidatesArgs(
            query=self.query,
            filters=FilterArgs.of(self.filters),
            k=self.k,
            tail_knob=self.tail_knob,
            anchor=self.anchor,
            llm_texts=list(self.llm_texts),
            kind=self.kind,
        )


class BoughtTogetherArgs(BaseModel):
    item_id: str = Field(min_length=1, max_length=128)
    k: int = Field(30, ge=1, le=100)


class ProductDetailsArgs(BaseModel):
    item_id: str = Field(min_length=1, max_length=128)


def _item(product: Any) -> dict[str, Any]:
    """A product as a tool's JSON lists it for the model."""
    return ItemSummary.of(product).as_dict()


class Toolbox:
    """The tools bound to one session and one turn's trace."""

    def __init__(self, services: Services, session: Session, trace: TurnTrace) -> None:
        self.services = services
        self.session = session
        self.trace = trace
        self.last_rank: RankResult | None = None
        self.seen_items: dict[str, Any] = {}  # every product a tool returned this turn

    @property
    def dataset(self) -> Any:
        return self.services.ranker.dataset

    def _product(self, item_id: str) -> Any:
        if not self.dataset.has_item(item_id):
            raise ToolError(f"no product with id {item_id!r} in this catalog")
        return self.services.ranker.product(item_id)

    def _record(
        self, name: str, args: BaseModel, run: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        started = time.perf_counter()
        call = ToolCall(name=name, arguments=args.model_dump(), ms=0.0)
        try:
            result = run()
        except (LongtailError, ValueError, KeyError) as exc:
            call.ok, call.error = False, str(exc)
            raise ToolError(str(exc)) from exc
        finally:
            call.ms = round((time.perf_counter() - started) * 1000, 2)
            self.trace.tool_calls.append(call)
        call.summary = _summary(result)
        return result

    # ------------------------------------------------------------------ the tools
    def search_products(self, args: SearchProductsArgs) -> dict[str, Any]:
        """Hybrid (semantic + keyword) search with exact filters."""

        def run() -> dict[str, Any]:
            if self.services.search is None:
                raise ToolError("search_products: no search service is configured")
            filters = args.filters.exact()
            hits = self.services.search.search(args.query, k=args.k, filters=filters)
            items = []
            for hit in hits:
                product = self._product(hit.item_id)
                self.seen_items[hit.item_id] = product
                items.append({**_item(product), "score": round(float(hit.score), 5)})
            return {"items": items}

        return self._record("search_products", args, run)

    def similar_items(self, args: SimilarItemsArgs) -> dict[str, Any]:
        """Items shoppers chose together with this one (co-occurrence and taste)."""

        def run() -> dict[str, Any]:
            product = self._product(args.item_id)
            if self.services.cf is None:
                return {"item_id": product.item_id, "neighbours": []}
            index = self.dataset.item_index(args.item_id)
            neighbours = []
            for n in self.services.cf.similar_items(index, k=args.k):
                other = self.dataset.products[n.item]
                self.seen_items[other.item_id] = other
                neighbours.append(
                    {
                        **_item(other),
                        "co_occurrence": round(float(n.co_occurrence), 4),
                        "taste": round(float(n.taste), 4),
                    }
                )
            return {"item_id": product.item_id, "neighbours": neighbours}

        return self._record("similar_items", args, run)

    def user_history(self, args: UserHistoryArgs) -> dict[str, Any]:
        """The shopper's behaviour history (known purchases plus this session's views)."""

        def run() -> dict[str, Any]:
            ids = self.session.history[-args.limit :]
            events = self.session.events[-args.limit :]
            items = [
                {**_item(self._product(i)), "event": e} for i, e in zip(ids, events, strict=True)
            ]
            return {"user_id": self.session.user_id, "items": items}

        return self._record("user_history", args, run)

    def rank_candidates(self, args: RankCandidatesArgs) -> dict[str, Any]:
        """The hybrid ranker over retrieval, intent and CF candidates, with the tail knob."""
        return self._record("rank_candidates", args, lambda: self._rank(args.call()))

    def rank(self, call: RankCall) -> dict[str, Any]:
        """rank_candidates from guided mode's plan, recorded as the model's call would be."""
        return self._record("rank_candidates", call.arguments(), lambda: self._rank(call))

    def _rank(self, call: RankCall) -> dict[str, Any]:
        history = [i for i in self.session.history if self.dataset.has_item(i)]
        events = [
            e
            for i, e in zip(self.session.history, self.session.events, strict=True)
            if self.dataset.has_item(i)
        ]
        if call.anchor:
            self._product(call.anchor)
            history, events = [*history, call.anchor], [*events, "view"]
        shown = (*call.filters.exclude_ids, *self.session.shown)
        request = RankRequest(
            history=tuple(history),
            events=tuple(events),
            message=call.query,
            filters=call.filters.model_copy(update={"exclude_ids": shown}),
            tail_knob=call.tail_knob,
            k=call.k,
            llm_texts=call.llm_texts,
            kind=call.kind,
        )
        result = self.services.ranker.rank(request)
        self.last_rank = result
        for item in result.items:
            self.seen_items[item.item_id] = self.services.ranker.product(item.item_id)
        return result.as_dict()

    def bought_together(self, args: BoughtTogetherArgs) -> dict[str, Any]:
        """Items bought by the same shoppers as this one (co-purchase counts from the log),
        then the catalog's own also-bought list for it."""

        def run() -> dict[str, Any]:
            product = self._product(args.item_id)
            counts = co_purchases(self.dataset, self.dataset.item_index(args.item_id))
            items = []
            for index, shoppers in counts[: args.k]:
                other = self.dataset.products[index]
                self.seen_items[other.item_id] = other
                items.append({**_item(other), "shoppers": shoppers, "source": "co-purchase"})
            listed = getattr(self.dataset, "relations", {}).get("also_bought", {})
            known = {i["item_id"] for i in items}
            for other_id in listed.get(product.item_id, ()):
                if len(items) >= 2 * args.k:
                    break
                if other_id not in known and self.dataset.has_item(other_id):
                    other = self._product(other_id)
                    self.seen_items[other_id] = other
                    items.append({**_item(other), "shoppers": 0, "source": "catalog"})
            return {"item_id": product.item_id, "items": items}

        return self._record("bought_together", args, run)

    def product_details(self, args: ProductDetailsArgs) -> dict[str, Any]:
        """Everything the catalog knows about one product."""

        def run() -> dict[str, Any]:
            product = self._product(args.item_id)
            self.seen_items[product.item_id] = product
            return product.model_dump()

        return self._record("product_details", args, run)

    # ------------------------------------------------------------------ LangChain
    def langchain_tools(self) -> list[StructuredTool]:
        """The tools for native tool calling; errors go back to the model as text."""
        specs: list[tuple[str, type[BaseModel], Callable[[Any], dict[str, Any]]]] = [
            ("search_products", SearchProductsArgs, self.search_products),
            ("similar_items", SimilarItemsArgs, self.similar_items),
            ("user_history", UserHistoryArgs, self.user_history),
            ("rank_candidates", RankCandidatesArgs, self.rank_candidates),
            ("product_details", ProductDetailsArgs, self.product_details),
        ]
        return [self._tool(name, schema, method) for name, schema, method in specs]

    def _tool(
        self, name: str, schema: type[BaseModel], method: Callable[[Any], dict[str, Any]]
    ) -> StructuredTool:
        def call(**kwargs: Any) -> dict[str, Any]:
            try:
                return method(schema(**kwargs))
            except (ToolError, ValidationError) as exc:
                return {"error": str(exc)}

        return StructuredTool.from_function(
            func=call,
            name=name,
            description=(method.__doc__ or name).strip(),
            args_schema=schema,
            infer_schema=False,
            handle_validation_error=_validation_message,
        )


def co_purchases(dataset: Any, item: int) -> list[tuple[int, int]]:
    """(item index, shoppers) for every item that shoppers of `item` also have in their
    log, most shared first (ties by index)."""
    users = np.unique(dataset.users[dataset.items == item])
    if not len(users):
        return []
    mask = np.isin(dataset.users, users) & (dataset.items != item)
    pairs = np.unique(np.stack([dataset.users[mask], dataset.items[mask]]), axis=1)
    counts = np.bincount(pairs[1], minlength=dataset.n_items)
    order = np.lexsort((np.arange(len(counts)), -counts))
    return [(int(i), int(counts[i])) for i in order if counts[i] > 0]


def _validation_message(exc: Exception) -> str:
    """What the model is told when its arguments do not match the tool's schema."""
    return json.dumps({"error": f"invalid arguments: {str(exc).splitlines()[0]}: {exc}"[:500]})


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    """Ids and counts for the trace, not whole payloads."""
    for key in ("items", "neighbours"):
        if key in result:
            return {"count": len(result[key]), "ids": [i["item_id"] for i in result[key]]}
    if "item_id" in result:
        return {"item_id": result["item_id"]}
    return {}
