"""What the agent needs from the rest of longtail, as protocols.

`ranking.hybrid.HybridRanker` is the production `Ranker`, `retrieval.search.Retriever` the
`ProductSearch`, `ranking.cf.CFScorer` the `SimilarItems`; unit tests pass small fakes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from agent.vocabulary import Vocabulary
from catalog.dataset import Dataset
from catalog.models import Product
from ranking.request import RankRequest, RankResult


class Ranker(Protocol):
    @property
    def dataset(self) -> Dataset: ...

    def rank(self, request: RankRequest) -> RankResult: ...

    def product(self, item_id: str) -> Product: ...


class ProductSearch(Protocol):
    def search(self, query: Any, k: int = 10, filters: Any = None) -> Sequence[Any]: ...


class SimilarItems(Protocol):
    def similar_items(self, item: int, k: int = 10) -> Sequence[Any]: ...


@dataclass
class Services:
    """The agent's back ends; search and cf are optional (tools that need them say so);
    `vocabulary` is the catalog's stored vocabulary (derived from the products if None)."""

    ranker: Ranker
    search: ProductSearch | None = None
    cf: SimilarItems | None = None
    vocabulary: Vocabulary | None = None
