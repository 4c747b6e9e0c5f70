"""Runs models on a split: tune on validation, score the test queries, compute the metrics.

Every model goes through the same path: for each candidate of its grid, fit on the
training part and rank the validation pairs; keep the candidate with the best
`TUNING_METRIC`; refit it, its choices kept, on the training part plus the validation
targets (`Split.refit`; off with `refit=False`); rank the test queries with it (their
histories folded in at request time). Lists are full rankings over the catalog minus the
query's history.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from catalog.dataset import Dataset
from evaluation.machine_load import LoadMonitor
from evaluation.split import Split, make_split, sample_users
from ranking import registry
from ranking.fitted import fit_once, refit_once
from ranking.metrics import KS, evaluate, exposure, share_by_decile
from ranking.scorer import Scorer
from ranking.spec import ScorerSpec
from ranking.tuning import Candidate, top_k, tune

COLD_USER_MAX = 3  # users with at most this many training interactions are "cold"
COLD_ITEM_MAX = 5  # targets with at most this many training interactions are "cold items"
GROUP_METRICS = ("recall@10", "hit_rate@10", "ndcg@10", "tail_recall@10")
SWEEP_KNOBS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
SWEEP_METRICS = ("recall@10", "ndcg@10", "tail_recall@10", "tail_user_coverage@10", "aplt@10")


@dataclass
class ModelResult:
    name: str
    params: dict[str, Any]  # the chosen grid point
    metrics: dict[str, float]
    seconds: float  # tuning, fitting and scoring, wall clock
    tuning: list[Candidate]
    exposure: list[float]  # share of top-10 slots per popularity decile, most popular first
    baseline: bool
    groups: dict[str, dict[str, float]] = field(default_factory=dict)  # group -> metrics
    weights: list[dict[str, Any]] = field(default_factory=list)  # a combiner's, if it has one
    search: list[dict[str, Any]] = field(default_factory=list)  # its own validation search


@dataclass
class SweepPoint:
    """The hybrid ranker's metrics at one tail-knob setting."""

    tail_knob: float
    metrics: dict[str, float]


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
    group_queries: dict[str, int] = field(default_factory=dict)  # group -> test queries in it
    sweep: list[SweepPoint] = field(default_factory=list)  # the hybrid's tail-knob sweep
    notes: list[str] = field(default_factory=list)  # caveats the report must state
    refit: bool = True  # models refitted on training + validation targets before test
    knob: dict[str, Any] = field(default_factory=dict)  # the default knob's validation choice
    seconds: float = 0.0  # the whole run, wall clock
    machine: dict[str, float] = field(default_factory=dict)  # CPU seconds, load (LoadMonitor)
    peak_memory_mb: float = 0.0  # the process's peak resident memory


def evaluate_model(
    spec: ScorerSpec,
    split: Split,
    seed: int,
    groups: dict[str, np.ndarray] | None = None,
    request_signals: dict[bytes, dict[str, np.ndarray]] | None = None,
    refit: bool = True,
) -> ModelResult:
    """Tune, refit (unless `refit` is off), then rank every test query and compute every
    metric at every K, overall and within each group of test queries (`groups`: name ->
    mask, default the cold-start ones).

    `request_signals` hands per-query extra signals (LLM candidates) to scorers that take them.
    """
    started = time.perf_counter()
    tuned, params, tried = tune(spec, split.training, seed)
    scorer = for_test(tuned, split, refit)
    if request_signals is not None and hasattr(scorer, "request_signals"):
        scorer.request_signals = request_signals
    lists = top_k(scorer, [q.history for q in split.test], max(KS), desc=f"{spec.name} test")
    seconds = time.perf_counter() - started
    search = list(getattr(tuned, "search_trials", []))
    if hasattr(tuned, "chosen_params"):  # it chose its own hyper-parameters: show them
        params = {**params, **tuned.chosen_params()}
    shown = exposure(lists[:, : min(KS)], split.tail.shape[0])
    targets = [q.targets for q in split.test]
    by_group = {}
    for group, mask in (cold_groups(split) if groups is None else groups).items():
        if mask.any():
            chosen = [t for t, m in zip(targets, mask, strict=True) if m]
            metrics = evaluate(lists[mask], chosen, split.tail)
            by_group[group] = {k: metrics[k] for k in GROUP_METRICS}
    return ModelResult(
        name=spec.name,
        params=params,
        metrics=evaluate(lists, [q.targets for q in split.test], split.tail),
        seconds=seconds,
        tuning=tried,
        exposure=share_by_decile(shown, split.training.item_counts()),
        baseline=spec.baseline,
        groups=by_group,
        weights=scorer.describe() if hasattr(scorer, "describe") else [],
        search=search,
    )


def for_test(scorer: Scorer, split: Split, refit: bool) -> Scorer:
    """The model that ranks the test queries: `scorer` refitted on `split.refit`, or as is."""
    if not refit or split.refit is None:
        return scorer
    return refit_once(scorer, split.refit)


def cold_groups(split: Split) -> dict[str, np.ndarray]:
    """Masks over the test queries: cold users, and queries whose target is a cold item.

    A cold user has at most COLD_USER_MAX training interactions; a cold item at most
    COLD_ITEM_MAX (the paper's cold-start settings). With several targets (temporal), a
    query counts as a cold-item query when its first target is cold.
    """
    counts = split.training.item_counts()
    lengths = np.array([len(split.training.sequences[q.user]) for q in split.test])
    first = np.array([int(q.targets[0]) for q in split.test])
    return {
        f"users with <= {COLD_USER_MAX} training interactions": lengths <= COLD_USER_MAX,
        f"targets with <= {COLD_ITEM_MAX} training interactions": counts[first] <= COLD_ITEM_MAX,
    }


def sweep_tail_knob(
    split: Split,
    seed: int,
    name: str = "hybrid",
    knobs: Sequence[float] = SWEEP_KNOBS,
    request_signals: dict[bytes, dict[str, np.ndarray]] | None = None,
    refit: bool = True,
) -> list[SweepPoint]:
    """The hybrid ranker re-ranked at each knob value (its fitted components are reused)."""
    fitted = fit_once(registry.get(name), registry.get(name).grid[0], split.training, seed)
    scorer = for_test(fitted, split, refit)
    if request_signals is not None:
        scorer.request_signals = request_signals  # type: ignore[attr-defined]
    chosen = scorer.tail_knob  # type: ignore[attr-defined]
    histories = [q.history for q in split.test]
    targets = [q.targets for q in split.test]
    points = []
    try:
        for knob in tqdm(knobs, desc="tail-knob sweep"):
            scorer.tail_knob = knob  # type: ignore[attr-defined]
            metrics = evaluate(top_k(scorer, histories, max(KS)), targets, split.tail)
            points.append(SweepPoint(knob, {k: metrics[k] for k in SWEEP_METRICS}))
    finally:
        scorer.tail_knob = chosen  # type: ignore[attr-defined]
    return points


def run_evaluation(
    dataset: Dataset,
    models: Sequence[str],
    protocol: str = "loo",
    users: int | None = None,
    seed: int = 7,
    llm_users: int = 0,
    describe: Callable[[Sequence[str]], list[str]] | None = None,
    refit: bool = True,
) -> Evaluation:
    """Split the dataset once and evaluate each named model on it.

    With `refit` (the default) each model, its choices made on validation, is refitted on
    the training part plus the validation targets before it ranks the test queries.

    With `llm_users` > 0 the hybrid models also get LLM-generated candidates for that many
    seeded test users; `describe(history_titles)` is the LLM call (see evaluation.llm_candidates).
    """
    started = time.perf_counter()
    monitor = LoadMonitor().start()
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
    groups = cold_groups(split)
    signals: dict[bytes, dict[str, np.ndarray]] | None = None
    hybrid = any(name.startswith("hybrid") for name in models)
    if hybrid and llm_users > 0:
        if describe is None:
            raise ValueError("llm_users needs a describe() function that calls the LLM")
        # As many validation requests get LLM candidates too, before anything is fitted:
        # the combiner learns the LLM features' weights from them instead of fixing them.
        validation = [h for h, _ in split.training.validation]
        learned, split.training.validation_signals, failed_validation = llm_signals(
            split, validation, seed, llm_users, describe, desc="LLM candidates (validation)"
        )
        histories = [q.history for q in split.test]
        sampled, signals, failed = llm_signals(
            split, histories, seed, llm_users, describe, desc="LLM candidates (test)"
        )
        groups[f"{int(sampled.sum())} users with LLM candidates"] = sampled
        result.notes.append(
            f"LLM-generated candidates ran for {int(sampled.sum())} seeded test users only "
            f"(--llm-users {llm_users}; {failed} LLM calls failed and fell back to no LLM "
            "candidates); the group table compares `hybrid` and `hybrid-no-llm` on them. "
            f"The combiner learned the LLM features' weights from {int(learned.sum())} "
            f"validation requests with LLM candidates ({failed_validation} calls failed)."
        )
    elif hybrid:
        result.notes.append(
            "LLM-generated candidates were not run (no --llm-users): `hybrid` and "
            "`hybrid-no-llm` rank the same candidates here."
        )
    result.refit = refit
    result.group_queries = {group: int(mask.sum()) for group, mask in groups.items()}
    for spec in specs:
        result.models.append(evaluate_model(spec, split, seed, groups, signals, refit))
    if "hybrid" in models:
        result.sweep = sweep_tail_knob(split, seed, request_signals=signals, refit=refit)
        result.knob = knob_choice(split, seed)
    result.seconds = time.perf_counter() - started
    result.machine = monitor.stop()
    result.peak_memory_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB
    return result


def knob_choice(split: Split, seed: int, name: str = "hybrid") -> dict[str, Any]:
    """How the hybrid's default tail knob was chosen: the rule, its validation sweep, the pick."""
    from ranking.hybrid import KNOB_RECALL_TOLERANCE

    scorer = fit_once(registry.get(name), registry.get(name).grid[0], split.training, seed)
    return {
        "rule": (
            "the largest knob whose validation recall@10 is at least "
            f"{1 - KNOB_RECALL_TOLERANCE:.0%} of knob 0's"
        ),
        "chosen": scorer.tail_knob,  # type: ignore[attr-defined]
        "validation": scorer.knob_validation,  # type: ignore[attr-defined]
    }


def llm_signals(
    split: Split,
    histories: Sequence[np.ndarray],
    seed: int,
    users: int,
    describe: Callable[[Sequence[str]], list[str]],
    desc: str = "LLM candidates",
) -> tuple[np.ndarray, dict[bytes, dict[str, np.ndarray]], int]:
    """The `llm` signal row for `users` seeded requests among `histories`: each item's best
    cosine to the LLM's descriptions, in the content component's vector space.
    Returns (mask over `histories`, rows keyed by history bytes, failures)."""
    from ranking.components import CONTENT
    from ranking.content import load_encoder
    from ranking.hybrid import COMPONENTS
    from serving.client import LLMError

    content = fit_once(CONTENT, COMPONENTS["content"], split.training, seed)
    vectors = content.item_vectors  # type: ignore[attr-defined]
    encoder = load_encoder("")
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(histories), size=min(users, len(histories)), replace=False))
    mask = np.zeros(len(histories), dtype=bool)
    rows: dict[bytes, dict[str, np.ndarray]] = {}
    failed = 0
    products = split.training.products
    for index in tqdm(chosen, desc=desc):
        history = histories[index]
        try:
            texts = describe([products[i].title for i in history])
        except LLMError:
            failed += 1
            continue
        if texts:
            mask[index] = True
            rows[np.asarray(history).tobytes()] = {
                "llm": (vectors @ encoder.encode(texts).T).max(axis=1)
            }
    return mask, rows, failed
