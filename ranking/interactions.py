"""Histories as sparse user × item matrices, the input of the collaborative-filtering scorers,
and the saved form of their item × item matrices."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse


def binary_matrix(histories: Sequence[np.ndarray], n_items: int) -> sparse.csr_matrix:
    """One row per history, 1.0 where the item occurs (repeats count once)."""
    lengths = [len(h) for h in histories]
    rows = np.repeat(np.arange(len(histories)), lengths)
    cols = np.concatenate(histories).astype(np.int64) if histories else np.zeros(0, np.int64)
    matrix = sparse.csr_matrix(
        (np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=(len(histories), n_items)
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def item_matrix_state(matrix: sparse.csr_matrix) -> dict[str, np.ndarray]:
    """A square item × item CSR matrix as the arrays `Scorer.state()` saves."""
    return {"data": matrix.data, "indices": matrix.indices, "indptr": matrix.indptr}


def item_matrix_from_state(state: dict[str, np.ndarray], n_items: int) -> sparse.csr_matrix:
    """The matrix `item_matrix_state` saved."""
    arrays = (state["data"], state["indices"], state["indptr"])
    return sparse.csr_matrix(arrays, shape=(n_items, n_items))
