"""The candidate features against their definitions over the whole catalog row."""

from __future__ import annotations

import numpy as np
import pytest

from ranking.hybrid_features import RECENT_WINDOW, rank_features, recent_counts, zscores


def reference_ranks(scores: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """1 / log2(2 + rank) over the full row by a stable sort: the definition."""
    masked = np.where(allowed, scores, -np.inf)
    order = np.argsort(-masked, axis=1, kind="stable")
    ranks = np.empty_like(order)
    ranks[np.arange(order.shape[0])[:, None], order] = np.arange(order.shape[1])[None, :]
    return np.where(allowed, 1.0 / np.log2(2.0 + ranks), 0.0)


def reference_z(scores: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    masked = np.where(allowed, scores, np.nan)
    mean = np.nanmean(masked, axis=1, keepdims=True)
    std = np.nanstd(masked, axis=1, keepdims=True)
    return np.where(allowed, (scores - mean) / np.maximum(std, 1e-9), 0.0)


@pytest.mark.parametrize("seed", range(5))
def test_candidate_features_equal_the_full_row_definitions(seed: int) -> None:
    rng = np.random.default_rng(seed)
    batch, n = 3, 400
    # Rounded scores with many zeros: ties, the case a rank search gets wrong most easily.
    scores = np.round(rng.normal(size=(batch, n)), 1).astype(np.float32)
    scores[rng.random((batch, n)) < 0.5] = 0.0
    allowed = rng.random((batch, n)) < 0.8
    allowed[0] = True
    width = 60
    candidates = np.full((batch, width), -1, dtype=np.int64)
    for row in range(batch):
        picked = np.sort(rng.choice(n, size=width - row * 10, replace=False))
        candidates[row, : len(picked)] = picked
    valid = candidates >= 0
    safe = np.maximum(candidates, 0)
    expected_rank = np.take_along_axis(reference_ranks(scores, allowed), safe, axis=1)
    expected_z = np.take_along_axis(reference_z(scores, allowed), safe, axis=1)
    got_rank = rank_features(scores, allowed, candidates)
    got_z = zscores(scores, allowed, candidates)
    np.testing.assert_allclose(got_rank[valid], expected_rank[valid], rtol=1e-6)
    np.testing.assert_allclose(got_z[valid], expected_z[valid], rtol=1e-4, atol=1e-5)
    # Disallowed candidates carry no signal.
    blocked = valid & ~np.take_along_axis(allowed, safe, axis=1)
    assert blocked.any() and not got_rank[blocked].any() and not got_z[blocked].any()


def test_recent_popularity_counts_each_shoppers_latest_interactions() -> None:
    assert RECENT_WINDOW == 3
    sequences = [np.array([0, 1, 2, 3]), np.array([4, 3]), np.array([], dtype=np.int64)]
    # shopper 0's latest three are 1, 2, 3 (item 0 is too old); shopper 1's are 4, 3
    np.testing.assert_array_equal(recent_counts(sequences, 6), [0, 1, 1, 2, 1, 0])
    assert not recent_counts([], 4).any()
