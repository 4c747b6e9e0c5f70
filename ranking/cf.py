"""Collaborative-filtering lookups for the agent's tools, and the fused CF scorer behind them.

Two views of "shoppers like you": item-item co-occurrence (ItemKNN: "bought together") and
ALS item factors (similar taste). Both fold in a history seen only at request time, so an
anonymous chat session gets the same service as a known user. Their scores live on
different scales, so they are fused per request as z-scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from ranking.als import ALSScorer
from ranking.itemknn import ItemKNNScorer
from ranking.scorer import Scorer, ScorerError, TrainingData


@dataclass(frozen=True)
class Neighbour:
    """One CF result with the evidence behind it, for explanations."""

    item: int
    score: float
    co_occurrence: float  # cosine over shoppers who interacted with both
    taste: float  # cosine of the ALS item factors


def zscore(scores: np.ndarray) -> np.ndarray:
    """Per-row standardisation, so signals on different scales can be added."""
    mean = scores.mean(axis=-1, keepdims=True)
    std = scores.std(axis=-1, keepdims=True)
    return (scores - mean) / np.maximum(std, 1e-9)


class CFScorer(Scorer):
    """ItemKNN + ALS, fused as `knn_weight` × z(ItemKNN) + (1 - knn_weight) × z(ALS)."""

    name: ClassVar[str] = "cf"

    def __init__(
        self,
        knn_weight: float = 0.5,
        factors: int = 128,
        alpha: float = 10.0,
        regularization: float = 0.01,
        iterations: int = 30,
        seed: int = 7,
    ) -> None:
        self.knn_weight = knn_weight
        self.knn = ItemKNNScorer()
        self.als = ALSScorer(
            factors=factors,
            alpha=alpha,
            regularization=regularization,
            iterations=iterations,
            seed=seed,
        )
        self.item_counts = np.zeros(0, dtype=np.int64)

    def fit(self, data: TrainingData) -> CFScorer:
        self.knn.fit(data)
        self.als.fit(data)
        self.item_counts = data.item_counts()
        self.n_items = data.n_items
        return self

    def _score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        knn = zscore(self.knn.score(histories))
        als = zscore(self.als.score(histories))
        return self.knn_weight * knn + (1 - self.knn_weight) * als

    def similar_items(self, item: int, k: int = 10) -> list[Neighbour]:
        """Items most like `item` by co-occurrence and by taste, best first (item excluded).

        An item nobody interacted with has no CF neighbours: the list is empty, and the
        semantic visor is the way to find its peers.
        """
        self._check_item(item)
        if self.item_counts[item] == 0:
            return []
        co = self.knn.similarity[item].toarray().ravel()
        factors = self.als.item_factors
        norms = np.linalg.norm(factors, axis=1) * np.linalg.norm(factors[item]) + 1e-9
        taste = (factors @ factors[item]) / norms
        taste[self.item_counts == 0] = 0.0  # never-trained factors are noise
        fused = self.knn_weight * zscore(co) + (1 - self.knn_weight) * zscore(taste)
        fused[item] = -np.inf
        top = np.argsort(-fused, kind="stable")[:k]
        return [
            Neighbour(int(i), float(fused[i]), float(co[i]), float(taste[i]))
            for i in top
            if np.isfinite(fused[i])
        ]

    def recommend_for_history(
        self, history: Sequence[int], k: int = 10, exclude: Sequence[int] = ()
    ) -> list[tuple[int, float]]:
        """Top-k (item, score) for a request-time history, history and `exclude` left out."""
        items = np.asarray(list(history), dtype=np.int64)
        top, scores = self.recommend(items, k, np.asarray(list(exclude), dtype=np.int64))
        return [(int(i), float(s)) for i, s in zip(top, scores, strict=True)]

    def _check_item(self, item: int) -> None:
        if not 0 <= item < self.n_items:
            raise ScorerError(f"cf: unknown item index {item} (catalog has {self.n_items} items)")

    def params(self) -> dict[str, float | int]:
        return {"knn_weight": self.knn_weight, **self.als.params()}

    def state(self) -> dict[str, np.ndarray]:
        knn = {f"knn.{k}": v for k, v in self.knn.state().items()}
        als = {f"als.{k}": v for k, v in self.als.state().items()}
        return {**knn, **als, "item_counts": self.item_counts}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        self.knn.n_items = self.als.n_items = self.n_items
        self.knn.set_state({k[4:]: v for k, v in state.items() if k.startswith("knn.")})
        self.als.set_state({k[4:]: v for k, v in state.items() if k.startswith("als.")})
        self.item_counts = state["item_counts"]

    @classmethod
    def load(cls, folder: Path, fingerprint: str = "") -> CFScorer:
        scorer = super().load(folder, fingerprint)
        assert isinstance(scorer, CFScorer)
        return scorer
