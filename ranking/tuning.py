"""The validation search: each grid point of a model fitted on the training part and its
top-K lists on the validation pairs judged by `TUNING_METRIC`; the best is kept. `longtail
eval` runs it for every model, and the hybrid ranker for its components, sharing one search
per (model, training data, seed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm import tqdm

from ranking.fitted import fit_once
from ranking.metrics import PAD, ndcg
from ranking.scorer import Scorer, TrainingData
from ranking.spec import ScorerSpec

TUNING_K = 10
TUNING_METRIC = f"ndcg@{TUNING_K}"  # what the validation search maximises
BATCH_SIZE = 256  # histories scored at once: bounds memory at BATCH_SIZE × catalog floats
# Grid candidates are judged on a seeded sample of this many validation pairs: on Beauty's
# 20,839 the full set made ALS's six fold-ins alone take 13 minutes, and one standard error
# of ndcg@10 on 5,000 pairs (~0.003) is below the gaps between the grid points that matter.
TUNING_VALIDATION = 5000


@dataclass
class Candidate:
    """One grid point tried on validation."""

    params: dict[str, Any]
    validation: float  # TUNING_METRIC on the validation pairs


def top_k(
    scorer: Scorer,
    histories: Sequence[np.ndarray],
    k: int,
    desc: str = "",
    batch_size: int = BATCH_SIZE,
) -> np.ndarray:
    """(len(histories), k) best items per history, its own items excluded, PAD-filled.

    Equal scores are broken by item index, so lists are deterministic.
    """
    lists = np.full((len(histories), k), PAD, dtype=np.int64)
    starts = range(0, len(histories), batch_size)
    for start in tqdm(starts, desc=desc, unit="batch", leave=False, disable=not desc):
        batch = histories[start : start + batch_size]
        scores = scorer.score(batch)
        for row, history in enumerate(batch):
            scores[row, history] = -np.inf
        order = _best_first(scores, k)
        best = np.take_along_axis(scores, order, axis=1)
        lists[start : start + len(batch), : order.shape[1]] = np.where(
            np.isfinite(best), order, PAD
        )
    return lists


def _best_first(scores: np.ndarray, k: int) -> np.ndarray:
    """The k best columns per row, best first, equal scores by column index: what a stable
    argsort of the whole row gives, without sorting it (a full sort of Beauty's 12,031 items
    per query made even popularity's test ranking take a minute)."""
    k = min(k, scores.shape[1])
    kth = -np.partition(-scores, k - 1, axis=1)[:, k - 1 : k]  # each row's k-th best score
    out = np.empty((len(scores), k), dtype=np.int64)
    for row, (values, floor) in enumerate(zip(scores, kth, strict=True)):
        columns = np.flatnonzero(values >= floor)  # ascending, so ties stay in index order
        out[row] = columns[np.argsort(-values[columns], kind="stable")][:k]
    return out


def tuning_sample(
    validation: list[tuple[np.ndarray, int]], seed: int, size: int = TUNING_VALIDATION
) -> list[tuple[np.ndarray, int]]:
    """A seeded sample of `size` validation pairs (all of them when there are fewer), in order."""
    if len(validation) <= size:
        return validation
    picked = np.sort(np.random.default_rng(seed).choice(len(validation), size, replace=False))
    return [validation[i] for i in picked]


def tune(
    spec: ScorerSpec, training: TrainingData, seed: int
) -> tuple[Scorer, dict[str, Any], list[Candidate]]:
    """Fit every grid candidate and keep the best on validation.

    A single candidate, or data without validation pairs, is fitted and kept untried.
    A search is run once per (model, training data, seed): the hybrid ranker reuses the
    baselines' choices for its components.
    """
    key = (spec.name, seed, id(training))
    hit = _TUNED.get(key)
    if hit is not None and hit[0] is training:
        return hit[1]
    _TUNED[key] = (training, _tune(spec, training, seed))
    return _TUNED[key][1]


_TUNED: dict[tuple[str, int, int], tuple[TrainingData, tuple[Scorer, dict[str, Any], list]]] = {}


def _tune(
    spec: ScorerSpec, training: TrainingData, seed: int
) -> tuple[Scorer, dict[str, Any], list[Candidate]]:
    pairs = tuning_sample(training.validation, seed)
    histories = [history for history, _ in pairs]
    targets = [np.array([target]) for _, target in pairs]
    if len(spec.grid) == 1 or not histories:
        return fit_once(spec, spec.grid[0], training, seed), spec.grid[0], []
    best: Scorer | None = None
    best_params, best_value = spec.grid[0], -np.inf
    tried: list[Candidate] = []
    for params in spec.grid:
        scorer = fit_once(spec, params, training, seed)
        label = ", ".join(f"{k}={v}" for k, v in params.items())
        lists = top_k(scorer, histories, TUNING_K, desc=f"{spec.name} validation ({label})")
        value = ndcg(lists, targets)
        tried.append(Candidate(params, value))
        if best is None or value > best_value:
            best, best_params, best_value = scorer, params, value
    assert best is not None  # the grid is never empty
    return best, best_params, tried
