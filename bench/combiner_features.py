"""What each group of the hybrid's features is worth, on the VALIDATION split only.

The hybrid is fitted on the split's training part (components at the given settings), its
candidates and features are computed for every validation request, and the combiner is
cross-fitted: fitted on one half of the requests, hit@10 read on the other, and the other
way round (knob 0, no duplicate suppression). Each variant drops one group of features;
test targets are never built into what anything sees. Writes one JSON, e.g.:

    .venv/bin/python -m bench.combiner_features --data ../shared/data/amazon-beauty-2014 \\
        --intent '{"lr": 0.001, "batch_size": 64, ...}' --out docs/results/combiner/beauty.json

`--intent` fixes the intent encoder's settings (e.g. those a `longtail eval` search chose,
in its metrics.json) with early stopping on validation; without it the encoder searches.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from catalog.loading import load_dataset
from core.offline import go_offline
from evaluation.split import leave_last_out
from ranking.combiner import Combiner, Featurised, training_batch
from ranking.hybrid import HybridScorer
from ranking.hybrid_features import FEATURES
from ranking.message_combiner import hit_rate

# Each variant: the features it leaves out (their weights are held at 0).
VARIANTS: dict[str, tuple[str, ...]] = {
    "all features": (),
    "without transitions (markov)": ("markov_z", "markov_rank"),
    "without recent popularity": ("recent_popularity",),
    "without both": ("markov_z", "markov_rank", "recent_popularity"),
}
CHUNK = 512


def validation_requests(hybrid: HybridScorer, validation: list) -> list[Featurised]:
    """Every validation request's candidates and features, as the combiner is fitted on."""
    histories = [np.asarray(h) for h, _ in validation]
    out = []
    for start in range(0, len(histories), CHUNK):
        candidates, _, features = hybrid._candidates(histories[start : start + CHUNK], {})
        for row, (_, target) in enumerate(validation[start : start + CHUNK]):
            real = candidates[row] >= 0  # hit_rate ranks every candidate it is given
            out.append(Featurised(candidates[row][real], features[row][real], target))
    return out


def cross_fitted_hits(requests: list[Featurised], dropped: tuple[str, ...], seed: int) -> float:
    """hit@10 of a combiner fitted on one half of the requests, read on the other, averaged
    (a request whose target is not a candidate counts as a miss)."""
    active = tuple(f for f in FEATURES if f not in dropped)
    halves = np.array_split(np.random.default_rng(seed).permutation(len(requests)), 2)
    hits = []
    for fit_on, read_on in (halves, halves[::-1]):
        combiner = Combiner(active)
        combiner.weights[:] = 0.0  # a feature left out counts for nothing
        batch = training_batch([requests[i] for i in fit_on])
        if batch is not None:
            combiner.fit(*batch)
        hits.append(hit_rate(combiner, [requests[i] for i in read_on]))
    return float(np.mean(hits))


def run(data: Path, intent: dict[str, Any] | None, seed: int) -> dict[str, Any]:
    started = time.perf_counter()
    training = leave_last_out(load_dataset(data)).training
    components = {"intent": {**intent, "search_budget_s": 0.0}} if intent else None
    hybrid = HybridScorer(tail_knob=0.0, seed=seed, components=components).fit(training)
    requests = validation_requests(hybrid, training.validation)
    return {
        "data": str(data),
        "protocol": "leave-last-out, validation requests only, 2-fold cross-fitted combiner",
        "validation_requests": len(requests),
        "target_among_candidates": round(
            float(np.mean([(r.candidates == r.target).any() for r in requests])), 4
        ),
        "components": hybrid.component_params,
        "hit@10": {
            name: round(cross_fitted_hits(requests, dropped, seed), 4)
            for name, dropped in VARIANTS.items()
        },
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="dataset folder")
    parser.add_argument("--intent", type=json.loads, help="intent encoder settings (JSON)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    args = parser.parse_args()
    go_offline()
    result = run(args.data, args.intent, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["hit@10"], indent=2))


if __name__ == "__main__":
    main()
