"""Long-tail exposure control and near-duplicate suppression: the last step of ranking.

The knob λ ∈ [0, 1] blends the combiner's order with tail membership:
    final = (1 − λ) × (−rank / 10) + λ × tail,
so λ = 0 keeps the combiner's order, λ = 1 puts every tail candidate first (in relevance
order), and in between a tail item moves ahead of the head items up to λ / (1 − λ) × 10
places above it (λ 0.1: one place, 0.3: four, 0.5: a whole top-10 list). Relevance is
rank-based, so λ means the same for every shopper whatever the spread of their scores: a
popularity-aware calibrated re-ranking in the spirit of xQuAD, reduced to its head/tail
aspect, with one interpretable knob.
"""

from __future__ import annotations

import numpy as np

LIST_LENGTH = 10.0  # the list the knob is calibrated on: λ 0.5 = one such list of places
DEFAULT_DUPLICATE_COSINE = 0.97  # text cosine above which two products count as variants


def tail_order(scores: np.ndarray, tail: np.ndarray, knob: float) -> np.ndarray:
    """Positions of `scores` in their re-ranked order (best first)."""
    if not 0.0 <= knob <= 1.0:
        raise ValueError(f"tail knob must be within [0, 1], got {knob}")
    n = len(scores)
    by_score = np.argsort(-scores, kind="stable")
    rel = np.empty(n, dtype=np.float64)
    rel[by_score] = -np.arange(n) / LIST_LENGTH
    final = (1.0 - knob) * rel + knob * tail.astype(np.float64)
    return np.lexsort((-rel, -final))


def suppress_duplicates(
    order: np.ndarray, vectors: np.ndarray | None, keep: int, threshold: float
) -> np.ndarray:
    """Move items nearly identical (text cosine ≥ threshold) to an earlier one to the back.

    Only the first `keep` slots are policed: beyond them order does not reach a shopper.
    """
    if vectors is None or threshold >= 1.0 or len(order) < 2:
        return order
    # Fast path, the common case: no item among the first `keep` has a near-duplicate
    # ahead of it, so nothing moves (one small matrix product instead of a loop).
    head = vectors[order[:keep]]
    ahead = np.triu(head @ head.T, k=1)  # [i, j]: cosine of j to the earlier i
    if not (ahead >= threshold).any():
        return order
    chosen: list[int] = []
    deferred: list[int] = []
    for position, index in enumerate(order):
        if len(chosen) >= keep:
            return np.array(chosen + deferred + list(order[position:]), dtype=np.int64)
        if chosen and float(np.max(vectors[chosen] @ vectors[index])) >= threshold:
            deferred.append(int(index))
        else:
            chosen.append(int(index))
    return np.array(chosen + deferred, dtype=np.int64)
