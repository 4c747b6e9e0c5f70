"""First-order item transitions: what shoppers took right after the items of this history.

The transition counts come from consecutive pairs of the training sequences; a history's
score for a candidate is log(1 + Σ_j decay^j × count(item_j → candidate)) over its
`window` most recent items (j = 0 is the latest). It is the sequential complement of
ItemKNN: ItemKNN says which items go together, this says which one comes next, and it
keeps working on items too rare for a trained model to have learned well.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

from ranking.interactions import item_matrix_from_state, item_matrix_state
from ranking.scorer import Scorer, ScorerError, TrainingData


class MarkovScorer(Scorer):
    """Decayed transition counts from the `window` latest history items."""

    name = "markov"

    def __init__(self, window: int = 3, decay: float = 0.5) -> None:
        if window < 1:
            raise ScorerError(f"markov: window must be at least 1, got {window}")
        if not 0.0 < decay <= 1.0:
            raise ScorerError(f"markov: decay must be within (0, 1], got {decay}")
        self.window = window
        self.decay = decay
        self.transitions = sparse.csr_matrix((0, 0), dtype=np.float32)

    def fit(self, data: TrainingData) -> MarkovScorer:
        pairs = [s for s in data.sequences if len(s) > 1]
        before = np.concatenate([s[:-1] for s in pairs]) if pairs else np.zeros(0, np.int64)
        after = np.concatenate([s[1:] for s in pairs]) if pairs else np.zeros(0, np.int64)
        keep = before != after  # a repeat of the same item says nothing about the next one
        counts = np.ones(int(keep.sum()), dtype=np.float32)
        shape = (data.n_items, data.n_items)
        self.transitions = sparse.csr_matrix((counts, (before[keep], after[keep])), shape=shape)
        self.transitions.sum_duplicates()
        self.n_items = data.n_items
        return self

    def _score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        rows, cols, weights = [], [], []
        for row, history in enumerate(histories):
            recent = np.asarray(history, dtype=np.int64)[::-1][: self.window]
            rows.append(np.full(len(recent), row))
            cols.append(recent)
            weights.append(self.decay ** np.arange(len(recent), dtype=np.float32))
        latest = sparse.csr_matrix(
            (np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))),
            shape=(len(histories), self.n_items),
        )
        return np.log1p((latest @ self.transitions).toarray())

    def params(self) -> dict[str, int | float]:
        return {"window": self.window, "decay": self.decay}

    def state(self) -> dict[str, np.ndarray]:
        return item_matrix_state(self.transitions)

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        self.transitions = item_matrix_from_state(state, self.n_items)
