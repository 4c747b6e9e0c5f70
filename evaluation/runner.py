"""Runs models on a split: tune on validation, score the test queries, compute the metrics.

Every model goes through the same path: for each candidate of its grid, fit on the
training part and rank the validation pairs; keep the candidate with the best
`TUNING_METRIC`; rank the test queries with it (their histories folded in at request
time, no refit). Lists are full rankings over the catalog minus the query's history.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from catalog.dataset import Dataset
from evaluation.metrics import KS, PAD, evaluate, exposure, ndcg, share_by_decile
from evaluation.split import Split, make_split, sample_users
from ranking import registry
from ranking.fitted import fit_once
from ranking.scorer import Scorer, TrainingData

TUNING_K = 10
TUNING_METRIC = f"ndcg@{TUNING_K}"  # what the validation search maximises
BATCH_SIZE = 256  # histories scored at once: bounds memory at BATCH_SIZE × catalog floats


@dataclass
class Candidate:
    """One grid point tried on validation."""

    params: dict[str, Any]
    validation: float  # TUNING_METRIC on the validation pairs


@dataclass
class ModelResult:
    name: str
    params: dict[str, Any]  # the chosen grid point
    metrics: dict[str, float]
    seconds: float  # tuning, fitting and scoring, wall clock
    tuning: list[Candidate]
    exposure: list[float]  # share of top-10 slots per popularity decile, most popular first
    baseline: bool


@dataclass
class Evaluation:
    dataset: str
    protocol: str
    items: int
    test_queries: int
    tail_targets: int
    seed: int
    users: int | None  # sampled test users, None for all
    training_exposure: list[float]  # share of training interactions per popularity decile
    models: list[ModelResult] = field(default_factory=list)


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
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        best = np.take_along_axis(scores, order, axis=1)
        lists[start : start + len(batch), : order.shape[1]] = np.where(
            np.isfinite(best), order, PAD
        )
    return lists


def tune(
    spec: registry.ScorerSpec, training: TrainingData, seed: int
) -> tuple[Scorer, dict[str, Any], list[Candidate]]:
    """Fit every grid candidate and keep the best on validation.

    A single candidate, or data without validation pairs, is fitted and kept untried.
    """
    histories = [history for history, _ in training.validation]
    targets = [np.array([target]) for _, target in training.validation]
    if len(spec.grid) == 1 or not histories:
        return fit_once(spec.name, spec.grid[0], training, seed), spec.grid[0], []
    best: Scorer | None = None
    best_params, best_value = spec.grid[0], -np.inf
    tried: list[Candidate] = []
    for params in spec.grid:
        scorer = fit_once(spec.name, params, training, seed)
        label = ", ".join(f"{k}={v}" for k, v in params.items())
        lists = top_k(scorer, histories, TUNING_K, desc=f"{spec.name} validation ({label})")
        value = ndcg(lists, targets)
        tried.append(Candidate(params, value))
        if best is None or value > best_value:
            best, best_params, best_value = scorer, params, value
    assert best is not None  # the grid is never empty
    return best, best_params, tried


def evaluate_model(spec: registry.ScorerSpec, split: Split, seed: int) -> ModelResult:
    """Tune, then rank every test query and compute every metric at every K."""
    started = time.perf_counter()
    scorer, params, tried = tune(spec, split.training, seed)
    lists = top_k(scorer, [q.history for q in split.test], max(KS), desc=f"{spec.name} test")
    seconds = time.perf_counter() - started
    shown = exposure(lists[:, : min(KS)], split.tail.shape[0])
    return ModelResult(
        name=spec.name,
        params=params,
        metrics=evaluate(lists, [q.targets for q in split.test], split.tail),
        seconds=seconds,
        tuning=tried,
        exposure=share_by_decile(shown, split.training.item_counts()),
        baseline=spec.baseline,
    )


def run_evaluation(
    dataset: Dataset,
    models: Sequence[str],
    protocol: str = "loo",
    users: int | None = None,
    seed: int = 7,
) -> Evaluation:
    """Split the dataset once and evaluate each named model on it."""
    specs = [registry.get(name) for name in models]
    split = make_split(dataset, protocol)
    if users is not None:
        split = sample_users(split, users, seed)
    counts = split.training.item_counts()
    result = Evaluation(
        dataset=dataset.name,
        protocol=protocol,
        items=dataset.n_items,
        test_queries=len(split.test),
        tail_targets=split.tail_targets(),
        seed=seed,
        users=users,
        training_exposure=share_by_decile(counts, counts),
    )
    for spec in specs:
        result.models.append(evaluate_model(spec, split, seed))
    return result
