"""Top-K metrics, accuracy and long-tail, named exactly as reported (`recall@10`, `aplt@20`).

Every function reads `lists`, an int array of shape (queries, K) of recommended item
indices, best first, padded with -1 where a list is shorter than K. Per-query metrics are
averaged over queries; catalog metrics (coverage, gini) pool all lists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from catalog.dataset import gini

KS = (10, 20)
PAD = -1  # marks an empty slot in a list shorter than K


def hits(lists: np.ndarray, targets: Sequence[np.ndarray]) -> np.ndarray:
    """Bool (queries, K): whether each slot holds one of that query's targets."""
    found = np.zeros(lists.shape, dtype=bool)
    for row, wanted in enumerate(targets):
        found[row] = np.isin(lists[row], wanted) & (lists[row] != PAD)
    return found


def recall(lists: np.ndarray, targets: Sequence[np.ndarray]) -> float:
    """Mean share of a query's targets that its list finds."""
    shares = [
        np.isin(wanted, row[row != PAD]).mean() if len(wanted) else 0.0
        for row, wanted in zip(lists, targets, strict=True)
    ]
    return _mean(np.array(shares))


def hit_rate(lists: np.ndarray, targets: Sequence[np.ndarray]) -> float:
    """Share of queries whose list finds at least one target."""
    return _mean(hits(lists, targets).any(axis=1))


def ndcg(lists: np.ndarray, targets: Sequence[np.ndarray]) -> float:
    """Binary-relevance NDCG: DCG over the hits, divided by the DCG of a perfect list."""
    discounts = 1.0 / np.log2(np.arange(2, lists.shape[1] + 2))
    dcg = hits(lists, targets) @ discounts
    ideal = np.cumsum(discounts)
    best = np.array([ideal[min(len(t), lists.shape[1]) - 1] if len(t) else 1.0 for t in targets])
    return _mean(dcg / best)


def mrr(lists: np.ndarray, targets: Sequence[np.ndarray]) -> float:
    """Mean reciprocal rank of the first hit (0 when the list finds nothing)."""
    found = hits(lists, targets)
    first = found.argmax(axis=1)
    return _mean(np.where(found.any(axis=1), 1.0 / (first + 1), 0.0))


def tail_recall(lists: np.ndarray, targets: Sequence[np.ndarray], tail: np.ndarray) -> float:
    """Recall over tail targets only, averaged over the queries that have any."""
    tail_targets = [t[tail[t]] for t in targets]
    rows = [row for row, t in enumerate(tail_targets) if len(t)]
    if not rows:
        return 0.0
    return recall(lists[rows], [tail_targets[row] for row in rows])


def coverage(lists: np.ndarray, n_items: int) -> float:
    """Share of the catalog that appears in at least one list."""
    return len(_shown(lists)) / n_items if n_items else 0.0


def tail_coverage(lists: np.ndarray, tail: np.ndarray) -> float:
    """Share of the tail items that appear in at least one list."""
    size = int(tail.sum())
    return int(tail[_shown(lists)].sum()) / size if size else 0.0


def tail_user_coverage(lists: np.ndarray, tail: np.ndarray) -> float:
    """Share of users whose list holds at least one tail item."""
    return _mean(_is_tail(lists, tail).any(axis=1))


def aplt(lists: np.ndarray, tail: np.ndarray) -> float:
    """Average percentage of long tail: mean share of tail items per (non-empty) list."""
    lengths = (lists != PAD).sum(axis=1)
    share = _is_tail(lists, tail).sum(axis=1) / np.maximum(lengths, 1)
    return _mean(share)


def exposure_gini(lists: np.ndarray, n_items: int) -> float:
    """Gini of how often each catalog item is shown (0 = evenly, 1 = one item everywhere)."""
    return gini(exposure(lists, n_items))


def exposure(lists: np.ndarray, n_items: int) -> np.ndarray:
    """How many lists show each item."""
    return np.bincount(lists[lists != PAD], minlength=n_items)


def share_by_decile(values: np.ndarray, popularity: np.ndarray, bins: int = 10) -> list[float]:
    """Share of `values` (one per item) in each popularity decile, most popular first.

    Items are ordered by `popularity` (ties by index, as the tail mask) and cut into `bins`
    equal groups. With list exposure as `values` this is a model's long-tail curve.
    """
    order = np.argsort(-popularity, kind="stable")
    total = values.sum()
    return [float(values[g].sum() / total) if total else 0.0 for g in np.array_split(order, bins)]


def evaluate(
    lists: np.ndarray, targets: Sequence[np.ndarray], tail: np.ndarray, ks: Sequence[int] = KS
) -> dict[str, float]:
    """Every metric at every K, keyed `name@K`; `lists` must hold at least max(ks) columns."""
    n_items = tail.shape[0]
    per_k: dict[str, Callable[[np.ndarray], float]] = {
        "recall": lambda top: recall(top, targets),
        "hit_rate": lambda top: hit_rate(top, targets),
        "ndcg": lambda top: ndcg(top, targets),
        "mrr": lambda top: mrr(top, targets),
        "tail_recall": lambda top: tail_recall(top, targets, tail),
        "coverage": lambda top: coverage(top, n_items),
        "tail_coverage": lambda top: tail_coverage(top, tail),
        "tail_user_coverage": lambda top: tail_user_coverage(top, tail),
        "aplt": lambda top: aplt(top, tail),
        "gini": lambda top: exposure_gini(top, n_items),
    }
    return {f"{name}@{k}": fn(lists[:, :k]) for name, fn in per_k.items() for k in ks}


def _shown(lists: np.ndarray) -> np.ndarray:
    return np.unique(lists[lists != PAD])


def _is_tail(lists: np.ndarray, tail: np.ndarray) -> np.ndarray:
    return (lists != PAD) & tail[np.where(lists == PAD, 0, lists)]


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if len(values) else 0.0
