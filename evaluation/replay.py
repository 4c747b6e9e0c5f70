"""Replay harness: simulated shoppers from a test split drive an A/B experiment end to end.

    python -m evaluation.replay --data DIR --out docs/results/experiments/replay_office.json

Each leave-last-out test user is one unit, assigned to a variant by the experiment's hash;
the variant ranks the user's history with a scorer tuned on the validation split (its top
`--candidates` re-ordered by the serving tail re-rank, `ranking.tail_rerank.tail_order`,
at the variant's knob) and shows the top 10. What was shown is logged as exposures, and a
click model turns it into views and purchases in a real event log (SQLite):

- position bias (cascade-free examination): rank r is examined with probability 1 / r;
- attraction of an examined item: 0.9 for the user's true next item, 0.25 for another item
  of the true next item's kind (catalog category), 0.03 for anything else;
- a clicked item is bought with probability 0.6 if it is the true next item, 0.1 if it is
  of its kind, else never.

Per-variant click-through, conversion, tail exposure share and recall@10 (the true next
item shown: the accuracy cost; also measured paired, every user under both knobs) are
then read back by the same code the staff console uses
(evaluation.experiment_stats), with 95% intervals and differences from control.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from evaluation.experiment_stats import mean_interval, summarize, unit_outcomes
from evaluation.split import make_split
from events.experiments import Experiment
from events.log import EventLog
from ranking.tail_rerank import tail_order

SHOWN = 10
EXAMINE = "1/rank"
ATTRACT = {"target": 0.9, "same_kind": 0.25, "other": 0.03}
BUY = {"target": 0.6, "same_kind": 0.1, "other": 0.0}


def experiment_of(knobs: tuple[float, float], effect: float) -> Experiment:
    return Experiment.model_validate(
        {
            "name": "replay-tail-knob",
            "variants": {"control": {"tail_knob": knobs[0]}, "tail": {"tail_knob": knobs[1]}},
            "split": {"control": 0.5, "tail": 0.5},
            "control": "control",
            "metrics": ["tail_exposure_share", "click_through", "conversion", "recall"],
            "min_detectable_effect": effect,
        }
    )


def replay(
    data: Path, model: str, knobs: tuple[float, float], candidates: int, seed: int, effect: float
) -> dict[str, Any]:
    from catalog.loading import load_dataset
    from ranking import registry
    from ranking.tuning import tune

    started = time.perf_counter()
    dataset = load_dataset(data)
    split = make_split(dataset, "loo")
    scorer, params, _ = tune(registry.get(model), split.training, seed)
    experiment = experiment_of(knobs, effect)
    kinds = np.array([p.category for p in dataset.products])
    ids = dataset.item_ids
    user_ids = dataset.user_ids
    rng = np.random.default_rng(seed)
    recall: dict[str, float] = {}
    paired: list[tuple[float, float]] = []  # every user under both knobs: recall@10 each
    with tempfile.TemporaryDirectory() as folder:
        log = EventLog(Path(folder) / "events.sqlite3")
        for query in tqdm(split.test, desc="replaying shoppers", unit="shopper"):
            unit = user_ids[query.user]
            variant = experiment.assign(unit)
            both = {
                name: _show(scorer, query.history, split.tail, v.tail_knob or 0.0, candidates)
                for name, v in experiment.variants.items()
            }
            shown = both[variant]
            log.record_exposures(experiment.name, variant, unit, [ids[i] for i in shown])
            target = int(query.targets[0])
            recall[unit] = float(target in shown)
            paired.append((float(target in both["control"]), float(target in both["tail"])))
            for rank, item in enumerate(shown, 1):
                kind = "target" if item == target else _kind(kinds, item, target)
                if rng.random() < 1.0 / rank and rng.random() < ATTRACT[kind]:
                    log.record(f"replay-{unit}", ids[item], "view", "replay", user_id=unit)
                    if rng.random() < BUY[kind]:
                        log.record(f"replay-{unit}", ids[item], "purchase", "replay", unit)
        tail = {ids[i] for i in np.flatnonzero(split.tail)}
        units = unit_outcomes(log, experiment, lambda i: i in tail, lambda i: None)
        log.close()
    for unit, outcome in units.items():
        outcome.extra["recall"] = recall[unit]
    report = summarize(units, experiment)
    diff = report["versus_control"]["tail"]
    return {
        "command": "python -m evaluation.replay " + " ".join(sys.argv[1:]),
        "data": dataset.name,
        "split": "leave-last-out test users (one unit each)",
        "units": len(units),
        "scorer": {"model": model, "params": params, "tuned_on": "validation split (ndcg@10)"},
        "candidates_reranked": candidates,
        "click_model": {"examine": EXAMINE, "attract": ATTRACT, "buy": BUY, "shown": SHOWN},
        "seed": seed,
        "report": report,
        "tail_exposure_detected": diff["tail_exposure_share"]["low"] > 0,
        "accuracy_cost_recall@10": diff["recall"],
        "paired_recall@10": _paired(paired),
        "seconds": round(time.perf_counter() - started, 1),
    }


def _show(
    scorer: Any, history: np.ndarray, tail: np.ndarray, knob: float, candidates: int
) -> list[int]:
    scores = scorer.score([history])[0]
    scores[history] = -np.inf
    pool = np.argsort(-scores, kind="stable")[:candidates]
    pool = pool[np.isfinite(scores[pool])]
    order = tail_order(scores[pool], tail[pool], knob)
    return [int(i) for i in pool[order][:SHOWN]]


def _paired(pairs: list[tuple[float, float]]) -> dict[str, Any]:
    """Offline cross-check of the accuracy cost: every test user ranked under both knobs,
    so the difference has no between-group noise (not something a live test can see)."""
    control, treatment = (np.array(side) for side in zip(*pairs, strict=True))
    return {
        "control": mean_interval(control.tolist()),
        "tail": mean_interval(treatment.tolist()),
        "difference": mean_interval((treatment - control).tolist()),
    }


def _kind(kinds: np.ndarray, item: int, target: int) -> str:
    return "same_kind" if kinds[item] == kinds[target] else "other"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="dataset folder (generic)")
    parser.add_argument("--out", type=Path, required=True, help="JSON report to write")
    parser.add_argument("--model", default="cf", help="scorer that ranks (default: cf)")
    parser.add_argument("--knobs", default="0,0.5", help="control,treatment tail knobs")
    parser.add_argument("--candidates", type=int, default=100, help="items re-ranked")
    parser.add_argument("--effect", type=float, default=0.02, help="min detectable effect")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    try:
        low, high = (float(k) for k in args.knobs.split(","))
    except ValueError:
        print(f"error: --knobs must be two numbers like 0,0.5; got {args.knobs!r}", file=sys.stderr)
        return 2
    result = replay(args.data, args.model, (low, high), args.candidates, args.seed, args.effect)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("units", "tail_exposure_detected")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
