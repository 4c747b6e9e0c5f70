"""Deterministic stand-ins for the agent's tests: a word-overlap ranker over a small demo
catalog (the Ranker protocol, held to its contract in tests/unit/ranking/
test_ranker_contract.py) and a scripted LangChain chat model that accepts bind_tools."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from catalog.dataset import Dataset, tail_mask
from catalog.models import Product
from core.filters import FilterError, Filters
from core.items import ItemSummary
from ranking.errors import RankingError
from ranking.hybrid_ranker import MAX_K
from ranking.request import RankedItem, RankRequest, RankResult


def _words(text: str) -> set[str]:
    return {w.rstrip("s") for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2}


class OverlapRanker:
    """Exact filters, then word overlap with the message, then popularity; CF-like credit to
    items of the same type as the last history item."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.counts = dataset.item_popularity()
        self.tail = tail_mask(self.counts)
        self.requests: list[RankRequest] = []

    def product(self, item_id: str) -> Product:
        if not self.dataset.has_item(item_id):
            raise RankingError(f"unknown item id {item_id!r}: not in the catalog")
        return self.dataset.products[self.dataset.item_index(item_id)]

    def _check(self, request: RankRequest) -> None:
        """The production ranker's refusals (tests/unit/ranking/test_ranker_contract.py); an
        unknown name to include is refused, as the catalog snapshot does."""
        if request.tail_knob is not None and not 0.0 <= request.tail_knob <= 1.0:
            raise RankingError(f"tail_knob must be within [0, 1], got {request.tail_knob}")
        if not 1 <= request.k <= MAX_K:
            raise RankingError(f"k must be from 1 to {MAX_K}, got {request.k}")
        if request.events and len(request.events) != len(request.history):
            raise RankingError(
                f"events has {len(request.events)} entries but history has "
                f"{len(request.history)}; give one event per history item or none"
            )
        for item_id in request.history:
            self.product(item_id)
        for what, names in (
            ("category", request.filters.categories),
            ("brand", request.filters.brands),
        ):
            known = {getattr(p, what).casefold() for p in self.dataset.products}
            for name in names:
                if name.casefold() not in known:
                    raise FilterError(f"no {what} {name!r} in this catalog")

    def _passes(self, p: Product, f: Filters) -> bool:
        lower = lambda values: {v.lower() for v in values}  # noqa: E731
        if f.categories and p.category.lower() not in lower(f.categories):
            return False
        if f.brands and p.brand.lower() not in lower(f.brands):
            return False
        if p.brand.lower() in lower(f.exclude_brands) or p.item_id in f.exclude_ids:
            return False
        if f.min_price is not None and (p.price is None or p.price < f.min_price):
            return False
        return f.max_price is None or (p.price is not None and p.price <= f.max_price)

    def rank(self, request: RankRequest) -> RankResult:
        self.requests.append(request)
        self._check(request)
        wanted = _words(request.message)
        last = self.product(request.history[-1]) if request.history else None
        scored = []
        for index, p in enumerate(self.dataset.products):
            if not self._passes(p, request.filters):
                continue
            if request.exclude_seen and p.item_id in request.history:
                continue
            overlap = len(wanted & _words(f"{p.title} {p.attributes.get('type', '')}"))
            same = float(
                last is not None and p.attributes.get("type") == last.attributes.get("type")
            )
            pop = float(np.log1p(self.counts[index])) / 10
            scored.append((overlap + 0.5 * same + pop, overlap, same, pop, index))
        scored.sort(key=lambda row: (-row[0], row[4]))
        items = []
        for rank, (score, overlap, same, pop, index) in enumerate(scored[: request.k], 1):
            p = self.dataset.products[index]
            items.append(
                RankedItem(
                    item=ItemSummary.of(p),
                    rank=rank,
                    score=score,
                    tail=bool(self.tail[index]),
                    popularity=int(self.counts[index]),
                    sources=("semantic",) + (("cf",) if same else ()),
                    contributions={"semantic": float(overlap), "cf": 0.5 * same, "pop": pop},
                    driving_history=(request.history[-1],) if same and last else (),
                )
            )
        return RankResult(
            items=items,
            candidates=len(scored),
            tail_knob=request.tail_knob if request.tail_knob is not None else 0.5,
            timings_ms={"rank": 0.1},
            sources_used=("semantic", "cf"),
        )


class ScriptedChat(BaseChatModel):
    """Replies from a script, in order: a string, an AIMessage, or an exception to raise.
    Records every call's messages and keyword arguments (response_format, tools, ...)."""

    script: list[Any]
    calls: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: Sequence[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.calls.append({"messages": messages, **kwargs})
        if not self.script:
            raise AssertionError("the scripted chat model ran out of replies")
        reply = self.script.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, str):
            reply = AIMessage(
                content=reply,
                usage_metadata={"input_tokens": 100, "output_tokens": 20, "total_tokens": 120},
            )
        return ChatResult(generations=[ChatGeneration(message=reply)])

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        from langchain_core.utils.function_calling import convert_to_openai_tool

        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)
