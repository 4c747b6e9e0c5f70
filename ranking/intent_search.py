"""The intent encoder's hyper-parameter search: random configurations, each trained to early
stopping on a sample of the training users and judged on validation pairs, within a budget.

Settled recipes do not carry across catalogs (a recipe tuned on Office was the weakest
model on another domain), so each dataset gets its own choice, made on its validation
split only: the search sees `TrainingData.validation`, never a test target. The first
configuration tried is `PLAIN`, the text-initialised SASRec of the reference numbers; the
others are drawn without repetition from `SPACE` by the scorer's seed. Every trial trains
until early stopping (SEARCH_PATIENCE epochs without a gain, at most `search_epochs`) and is
judged at its best epoch: judged after a fixed 4 epochs, fast learners win (on Office, lr
4e-3 had validation ndcg@10 0.070 after 4 epochs, the plain recipe at lr 1e-3 was near 0.04
and still rising) whatever the others reach later. Trials train on a seeded share of the
users, so that several fit a budget that one full training used up on Office and Beauty;
the chosen values are then trained on all users, with early stopping on validation.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ranking.intent import IntentScorer, TrainingInputs

# What the search may change; values span the usual SASRec settings and this model's extras
# (id shrinkage, message augmentation, logit adjustment, category vectors).
SPACE: dict[str, list[Any]] = {
    "lr": [5e-4, 1e-3, 2e-3, 4e-3],
    "batch_size": [64, 128, 256],
    "dropout": [0.1, 0.2, 0.3, 0.5],
    "hidden": [64, 128],
    "blocks": [1, 2],
    "max_len": [20, 50],
    "id_shrinkage": [0.0, 1.0, 5.0, 20.0],
    "message_rate": [0.0, 0.1, 0.2],
    "logq": [0.0, 0.25, 0.5],
    "category": [False, True],
    "mask_history": [False, True],
}
# The plain text-initialised SASRec (ANCHORS.md): item = projected frozen text vector + an
# ungated zero-initialised id embedding, no message tokens, plain full-softmax cross-entropy.
PLAIN: dict[str, Any] = {
    "lr": 1e-3,
    "batch_size": 128,
    "dropout": 0.2,
    "hidden": 64,
    "blocks": 2,
    "max_len": 50,
    "id_shrinkage": 0.0,
    "message_rate": 0.0,
    "logq": 0.0,
    "category": False,
    "mask_history": False,
}
# The search as the registered `intent` model runs it. Its budget is training work, not
# seconds, so the same data always gets the same trials whatever the machine's load: trials
# train on a seeded SEARCH_SHARE of the training users and may together process as many
# training positions as SEARCH_BUDGET_EPOCHS passes over all users (so it scales with the
# data); `search_budget_s` is only a ceiling on wall-clock seconds for slow machines.
INTENT_SEARCH = {"search_budget_s": 3600.0}
SEARCH_SHARE = 0.1  # share of training users a trial trains on ...
SEARCH_MIN_USERS = 1000  # ... but at least this many (all users if there are fewer)
SEARCH_BUDGET_EPOCHS = 12.0  # the search's work, in full-data epochs
SEARCH_VALIDATION = 5000  # validation pairs a trial is judged on (a seeded sample)
SEARCH_PATIENCE = 3  # a trial stops after this many epochs without a validation gain


def search(
    scorer: IntentScorer, inputs: TrainingInputs, validation: list[tuple[np.ndarray, int]]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(chosen values, one record per trial).

    Each trial trains on the same seeded sample of training users to early stopping and is
    judged at its best epoch on a seeded sample of validation pairs. A trial starts only
    while the work done plus the costliest trial so far fits the budget (the first always
    runs), and while the seconds spent plus the slowest trial fit `search_budget_s`; at most
    `search_trials` run. The caller trains the chosen values on all users."""
    cfg = scorer.config
    original = {key: cfg[key] for key in SPACE}
    rng = np.random.default_rng(cfg["seed"])
    if len(validation) > SEARCH_VALIDATION:
        picked = np.sort(rng.choice(len(validation), SEARCH_VALIDATION, replace=False))
        validation = [validation[i] for i in picked]
    sample = user_sample(inputs, rng)
    budget = SEARCH_BUDGET_EPOCHS * positions(inputs.sequences)
    per_epoch = positions(sample.sequences)
    started = time.perf_counter()
    trials: list[dict[str, Any]] = []
    work = costliest = slowest = 0.0
    for params in candidates(PLAIN, rng, cfg["search_trials"]):
        spent = time.perf_counter() - started
        if trials and (work + costliest > budget or spent + slowest > cfg["search_budget_s"]):
            break
        began = time.perf_counter()
        cfg.update(params)
        run = scorer.start(sample)
        value = scorer.train_until_stopped(
            run,
            sample,
            validation,
            min(cfg["search_epochs"], cfg["max_epochs"]),
            patience=SEARCH_PATIENCE,
        )
        seconds = time.perf_counter() - began
        slowest = max(slowest, seconds)
        costliest = max(costliest, run.epochs * per_epoch)
        work += run.epochs * per_epoch
        trials.append(
            {
                **params,
                "valid_ndcg@10": round(float(value), 6),
                "epoch": run.best_epoch,
                "seconds": round(seconds, 1),
            }
        )
    cfg.update(original)
    scorer.history_log.clear()
    best = max(trials, key=lambda t: t["valid_ndcg@10"])  # the first of equals
    return {key: best[key] for key in SPACE}, trials


def positions(sequences: list[tuple[np.ndarray, np.ndarray]]) -> int:
    """Training positions (next-item targets) in one epoch over `sequences`."""
    return sum(len(s) for s, _ in sequences)


def user_sample(inputs: TrainingInputs, rng: np.random.Generator) -> TrainingInputs:
    """The inputs restricted to a seeded SEARCH_SHARE of the training users (in order)."""
    from dataclasses import replace

    users = len(inputs.sequences)
    size = min(users, max(SEARCH_MIN_USERS, round(SEARCH_SHARE * users)))
    picked = np.sort(rng.choice(users, size, replace=False))
    return replace(inputs, sequences=[inputs.sequences[i] for i in picked])


def candidates(first: dict[str, Any], rng: np.random.Generator, count: int) -> list[dict[str, Any]]:
    """`first`, then up to `count` - 1 distinct random draws from SPACE."""
    out, seen = [first], {repr(sorted(first.items()))}
    for _ in range(count * 20):
        if len(out) >= count:
            break
        draw = {key: values[int(rng.integers(len(values)))] for key, values in SPACE.items()}
        key = repr(sorted(draw.items()))
        if key not in seen:
            seen.add(key)
            out.append(draw)
    return out
