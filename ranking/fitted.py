"""Fit each (model, hyper-parameters) once per training set within a process.

An evaluation run fits the baselines' grids, the intent encoder and then the hybrid ranker
and its five ablations, which all reuse the same components. Training the intent encoder
takes minutes, so components are fitted once and shared by identity of the training data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from ranking.scorer import Scorer, TrainingData
from ranking.spec import ScorerSpec

_FITTED: dict[tuple[str, str, int, int], tuple[TrainingData, Scorer]] = {}


def fit_once(spec: ScorerSpec, params: dict[str, Any], data: TrainingData, seed: int) -> Scorer:
    """The model `spec` fitted on `data`, reusing an earlier fit of the same name."""
    key = (spec.name, json.dumps(params, sort_keys=True, default=str), seed, id(data))
    hit = _FITTED.get(key)
    if hit is not None and hit[0] is data:  # `is`: an id can be reused after collection
        return hit[1]
    scorer = spec.build(seed, **params).fit(data)
    _FITTED[key] = (data, scorer)
    return scorer


_SHARED: dict[tuple[Any, ...], tuple[TrainingData, Any]] = {}
T = TypeVar("T")


def shared_fit(key: tuple[Any, ...], data: TrainingData, build: Callable[[], T]) -> T:
    """What `build()` returns for `key` on `data`, built once per training set (a state
    that several configurations of one model have in common)."""
    full = (*key, id(data))
    hit = _SHARED.get(full)
    if hit is not None and hit[0] is data:
        return hit[1]
    value = build()
    _SHARED[full] = (data, value)
    return value


def refit_once(scorer: Scorer, data: TrainingData) -> Scorer:
    """`scorer.refit(data)`, once per fitted scorer and data within a process: a model
    that is also a hybrid component is refitted once for both. The key holds the scorer
    itself (hashed by identity), so it stays alive and its id is never reused."""
    return shared_fit(("refit", scorer), data, lambda: scorer.refit(data))


def forget() -> None:
    """Drop every cached fit (tests, long-lived processes that retrain)."""
    _FITTED.clear()
    _SHARED.clear()
