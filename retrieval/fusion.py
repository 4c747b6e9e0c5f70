"""Reciprocal rank fusion: combine rankings by rank, not by score.

Dense cosine similarities and BM25 scores live on unrelated scales; RRF only uses each
item's rank in each list, score = sum over lists of weight / (k + rank), rank from 1.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

T = TypeVar("T", bound=Hashable)


def reciprocal_rank_fusion(
    rankings: Mapping[str, Sequence[T]], weights: Mapping[str, float], k: int = 60
) -> list[tuple[T, float]]:
    """Items of all rankings with their fused score, best first; ties keep first-seen order."""
    fused: dict[T, float] = {}
    for name, ranking in rankings.items():
        weight = weights.get(name, 1.0)
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda pair: -pair[1])
