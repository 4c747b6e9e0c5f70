"""Item-based k-nearest-neighbours: items bought by the same users are similar.

Similarity is the cosine over binary user co-occurrence, optionally shrunk (to damp
pairs seen together only a few times) and pruned to each item's nearest neighbours; a
history's score for a candidate is the sum of its similarities to the history's items.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

from ranking.interactions import binary_matrix, item_matrix_from_state, item_matrix_state
from ranking.scorer import Scorer, TrainingData


class ItemKNNScorer(Scorer):
    """Cosine item-item similarity; `neighbours` = 0 keeps every neighbour."""

    name = "itemknn"

    def __init__(self, neighbours: int = 0, shrink: float = 0.0) -> None:
        self.neighbours = neighbours
        self.shrink = shrink
        self.similarity = sparse.csr_matrix((0, 0), dtype=np.float32)

    def fit(self, data: TrainingData) -> ItemKNNScorer:
        users = binary_matrix(data.sequences, data.n_items)
        together = (users.T @ users).tocoo()
        norms = np.sqrt(np.asarray(users.sum(axis=0)).ravel())
        keep = together.row != together.col  # an item is not its own neighbour
        rows, cols = together.row[keep], together.col[keep]
        values = together.data[keep] / (norms[rows] * norms[cols] + self.shrink)
        similarity = sparse.csr_matrix(
            (values.astype(np.float32), (rows, cols)), shape=(data.n_items, data.n_items)
        )
        self.similarity = (
            _top_per_row(similarity, self.neighbours) if self.neighbours else similarity
        )
        self.n_items = data.n_items
        return self

    def _score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        return (binary_matrix(histories, self.n_items) @ self.similarity).toarray()

    def params(self) -> dict[str, int | float]:
        return {"neighbours": self.neighbours, "shrink": self.shrink}

    def state(self) -> dict[str, np.ndarray]:
        return item_matrix_state(self.similarity)

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        self.similarity = item_matrix_from_state(state, self.n_items)


def _top_per_row(matrix: sparse.csr_matrix, k: int) -> sparse.csr_matrix:
    """Keep the k largest entries of each row (ties by column index)."""
    rows, cols, values = [], [], []
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        row_cols, row_values = matrix.indices[start:end], matrix.data[start:end]
        best = np.lexsort((row_cols, -row_values))[:k]
        rows.append(np.full(len(best), row))
        cols.append(row_cols[best])
        values.append(row_values[best])
    return sparse.csr_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
        shape=matrix.shape,
        dtype=np.float32,
    )
