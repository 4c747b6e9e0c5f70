"""Most-popular baseline: every history gets the same list, the training bestsellers.

The floor every model must beat, and the extreme of head-only exposure.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ranking.scorer import Scorer, TrainingData


class PopularityScorer(Scorer):
    """Score = training interaction count of the item."""

    name = "pop"

    def __init__(self) -> None:
        self.counts = np.zeros(0, dtype=np.float32)

    def fit(self, data: TrainingData) -> PopularityScorer:
        self.counts = data.item_counts().astype(np.float32)
        self.n_items = data.n_items
        return self

    def _score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        return np.tile(self.counts, (len(histories), 1))

    def state(self) -> dict[str, np.ndarray]:
        return {"counts": self.counts}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        self.counts = state["counts"]
