"""What the hybrid ranker is asked and what it answers, in catalog item ids.

These are the types the agent's `rank_candidates` tool, the REST API and the staff console
share: a request (history, message, filters, tail knob) in, ranked items out, each with the
contribution of every signal so that an explanation can say why it is there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.filters import Filters
from core.items import ItemSummary, flat

SOURCES = ("semantic", "sparse", "intent", "cf", "llm")  # candidate generators


@dataclass(frozen=True)
class RankRequest:
    """One ranking request. Item ids are catalog ids (`Product.item_id`)."""

    history: tuple[str, ...] = ()  # oldest first; unknown ids are a RankingError
    events: tuple[str, ...] = ()  # aligned with history ("view", "cart", ...); empty = default
    message: str = ""  # what the shopper just said; may be empty
    filters: Filters = field(default_factory=Filters)  # applied exactly, first
    # 0 = pure accuracy .. 1 = most tail exposure; None = the model's default (0.7), or 0.3
    # when there is a message (see ranking/hybrid_ranker.py).
    tail_knob: float | None = None
    k: int = 10
    llm_texts: tuple[str, ...] = ()  # LLM-written descriptions of products that would fit
    # The catalog kind the message names, as the agent read it ('' = none named). Only such
    # requests are ranked by the message combiner, which was learned on requests that name
    # their target's kind (ranking/message_combiner.py); other messages keep the hand-set one.
    kind: str = ""
    exclude_seen: bool = True  # drop items already in the history


@dataclass(frozen=True)
class RankedItem:
    """One suggestion with its evidence."""

    item: ItemSummary
    rank: int  # 1-based, after tail re-ranking
    score: float  # the combiner's score before re-ranking
    tail: bool  # a long-tail item (outside the most popular 20%)
    popularity: int  # training interactions
    sources: tuple[str, ...]  # the candidate generators that proposed it
    contributions: dict[str, float]  # signal -> weight x feature, summing to `score` - bias
    driving_history: tuple[str, ...] = ()  # history item ids the intent encoder attended to
    message_similarity: float | None = None  # cosine of its text to the message; None: no message

    @property
    def item_id(self) -> str:
        return self.item.item_id

    def as_dict(self) -> dict[str, Any]:
        """Flat, as the tools and the CLI show it: the summary's keys, then the evidence."""
        return flat(self)


@dataclass
class RankResult:
    """The ranked items plus what a staff console shows about how they were found."""

    items: list[RankedItem]
    candidates: int  # candidates considered after filtering
    tail_knob: float
    timings_ms: dict[str, float]  # per stage
    sources_used: tuple[str, ...]  # the generators that ran for this request

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": [item.as_dict() for item in self.items],
            "candidates": self.candidates,
            "tail_knob": self.tail_knob,
            "timings_ms": self.timings_ms,
            "sources_used": list(self.sources_used),
        }
