"""Reciprocal rank fusion: ranks, not raw scores, decide; weights tilt the mix."""

from __future__ import annotations

import pytest

from retrieval.fusion import reciprocal_rank_fusion


def test_one_ranking_keeps_its_order_with_rrf_scores() -> None:
    fused = reciprocal_rank_fusion({"dense": ["a", "b", "c"]}, {"dense": 1.0}, k=60)
    assert [item for item, _ in fused] == ["a", "b", "c"]
    assert fused[0][1] == pytest.approx(1 / 61)
    assert fused[2][1] == pytest.approx(1 / 63)


def test_agreement_beats_a_single_first_place() -> None:
    fused = reciprocal_rank_fusion(
        {"dense": ["a", "b"], "sparse": ["x", "b"]}, {"dense": 1.0, "sparse": 1.0}
    )
    assert [item for item, _ in fused] == ["b", "a", "x"]
    assert dict(fused)["b"] == pytest.approx(2 / 62)


def test_weights_tilt_the_fusion() -> None:
    rankings = {"dense": ["a", "b"], "sparse": ["b", "a"]}
    assert reciprocal_rank_fusion(rankings, {"dense": 2.0, "sparse": 1.0})[0][0] == "a"
    assert reciprocal_rank_fusion(rankings, {"dense": 1.0, "sparse": 2.0})[0][0] == "b"
    only_sparse = reciprocal_rank_fusion(rankings, {"dense": 0.0, "sparse": 1.0})
    assert [item for item, _ in only_sparse] == ["b", "a"]


def test_ties_keep_first_seen_order_and_empty_is_empty() -> None:
    fused = reciprocal_rank_fusion({"dense": ["a"], "sparse": ["b"]}, {})
    assert [item for item, _ in fused] == ["a", "b"]
    assert reciprocal_rank_fusion({"dense": []}, {}) == []
