"""Intent-encoder recipes compared on the VALIDATION split only (leave-last-out).

Each named recipe (a few settings over the plain text-SASRec point of the search space) is
trained with early stopping on validation ndcg@10 and judged at its best epoch on the
same validation pairs; test targets are never built into what a recipe sees (the split's
`training` part only). Writes one JSON with per-epoch curves, e.g.:

    nice -n 15 .venv/bin/python -m bench.intent_recipes --data DIR --recipes ours,sasrec \\
        [--share 0.3] --out docs/results/intent/recipes-office.json

`--share` trains on a seeded share of the training users (quicker, for large catalogs); the
validation pairs (a seeded sample of at most 5,000) are the same either way.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from catalog.loading import load_dataset
from core.offline import go_offline
from evaluation.split import leave_last_out
from ranking.intent import IntentScorer
from ranking.intent_search import PLAIN
from ranking.metrics import ndcg, recall
from ranking.tuning import top_k, tuning_sample

# The plain point as the encoder ran it before (pre-norm GELU blocks, START token) and the
# parts of SASRec's own recipe, alone and together.
RECIPES: dict[str, dict[str, Any]] = {
    "ours": {**PLAIN, "block": "prenorm", "start_token": True, "input_scale": False},
    "sasrec": {**PLAIN, "block": "sasrec", "start_token": False, "input_scale": True},
    "sasrec+start": {**PLAIN, "block": "sasrec", "start_token": True, "input_scale": True},
    "sasrec-scale": {**PLAIN, "block": "sasrec", "start_token": False, "input_scale": False},
    "prenorm": {**PLAIN, "block": "prenorm", "start_token": False, "input_scale": True},
}
RECIPES["sasrec+mask"] = {**RECIPES["sasrec"], "mask_history": True}
RECIPES["ours+mask"] = {**RECIPES["ours"], "mask_history": True}


def run(
    data: Path, names: list[str], patience: int, max_epochs: int, seed: int, share: float
) -> dict:
    split = leave_last_out(load_dataset(data))
    training = split.training
    pairs = tuning_sample(training.validation, seed)
    users = len(training.sequences)
    picked = np.sort(np.random.default_rng(seed).choice(users, round(share * users), False))
    training = replace(
        training,
        sequences=[training.sequences[i] for i in picked],
        events=[training.events[i] for i in picked] if training.events else [],
        validation=pairs,
    )
    results = []
    for name in names:
        started = time.perf_counter()
        model = IntentScorer(
            **RECIPES[name], max_epochs=max_epochs, patience=patience, seed=seed, progress=True
        ).fit(training)
        lists = top_k(model, [h for h, _ in pairs], 10)
        targets = [np.array([t]) for _, t in pairs]
        results.append(
            {
                "recipe": name,
                "settings": RECIPES[name],
                "valid_recall@10": round(recall(lists, targets), 4),
                "valid_ndcg@10": round(ndcg(lists, targets), 4),
                "best_epoch": model.config["best_epoch"],
                "epochs": len(model.history_log),
                "seconds": round(time.perf_counter() - started, 1),
                "curve": [round(e["valid_ndcg@10"], 4) for e in model.history_log],
            }
        )
        print(json.dumps({k: v for k, v in results[-1].items() if k != "curve"}), flush=True)
    return {
        "dataset": data.name,
        "validation_pairs": len(pairs),
        "training_users": f"{len(picked)} of {users} (seeded share {share:g})",
        "patience": patience,
        "max_epochs": max_epochs,
        "seed": seed,
        "results": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="dataset folder")
    parser.add_argument("--recipes", default=",".join(RECIPES), help="comma-separated names")
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--max-epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--share", type=float, default=1.0, help="seeded share of training users to train on"
    )
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    args = parser.parse_args()
    names = args.recipes.split(",")
    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        parser.error(f"unknown recipe(s) {', '.join(unknown)}; known: {', '.join(RECIPES)}")
    go_offline()
    if not 0 < args.share <= 1:
        parser.error(f"--share must be in (0, 1], got {args.share}")
    result = run(args.data, names, args.patience, args.max_epochs, args.seed, args.share)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
