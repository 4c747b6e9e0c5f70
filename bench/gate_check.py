"""Does the promotion gate refuse a damaged hybrid and promote a good one? A check of the
gate itself, on a seeded demo store (a demo, not evidence about shoppers):

    python -m bench.gate_check --out docs/results/experiments/gate_demo.json

The serving cf and hybrid models are trained as `longtail train` does; then two versions as
`longtail train --with-events` does (no events: the dataset alone), one good and one with
every training sequence's items relabelled at random. Each is judged against the serving
models by the gate. For comparison, the same pair is also trained and judged as the gate's
first version did: on all but each user's last interaction, judged on those last ones, the
validation pairs the hybrid's combiner is fitted on.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from catalog.dataset import Dataset
from catalog.demo import DemoConfig, write_demo
from catalog.loading import load_dataset
from core.settings import Settings
from evaluation.gate import judge
from longtail.feedback import train_version
from longtail.prepare import train_models
from ranking.artifacts import load_trained, load_trained_from, serving_training_data

MODELS = ["cf", "hybrid"]


def gate_check(items: int, users: int, max_epochs: int, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gate-check-") as tmp:
        root = Path(tmp)
        write_demo(root / "shop", DemoConfig(items=items, users=users))
        dataset = load_dataset(root / "shop")
        settings = Settings(home=root / "home")
        train_models(settings, dataset, MODELS, max_epochs=max_epochs)
        result: dict[str, Any] = {"items": items, "users": users, "max_epochs": max_epochs}
        for label, shuffle in (("good", None), ("damaged", seed)):
            version = train_version(
                settings, dataset, MODELS, max_epochs, promote=False, shuffle_items_seed=shuffle
            )
            old = first_gate(settings, dataset, max_epochs, shuffle, root / "first" / label)
            result[label] = {
                "gate_promotes": version["gate"]["promote"],
                "reasons": version["gate"]["reasons"],
                "gate": version["gate"]["models"],
                "first_gate_promotes": not any(g["reasons"] for g in old.values()),
                "first_gate": old,
            }
    return result


def first_gate(
    settings: Settings, dataset: Dataset, max_epochs: int, shuffle: int | None, out: Path
) -> dict[str, Any]:
    """Train as the gate's first version did and judge on the combiner's own fit pairs."""
    data = serving_training_data(dataset)
    if shuffle is not None:
        relabel = np.random.default_rng(shuffle).permutation(dataset.n_items)
        data.sequences = [relabel[s] for s in data.sequences]
    train_models(settings, dataset, MODELS, max_epochs, training=data, out=out)
    return {
        name: judge(
            load_trained_from(out, name, dataset),
            load_trained(settings.home, dataset, name),
            dataset,
            {"validation": data.validation},
            settings.feedback,
        )
        for name in MODELS
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="JSON report to write")
    parser.add_argument("--items", type=int, default=300, help="demo catalog size")
    parser.add_argument("--users", type=int, default=200, help="demo shoppers")
    parser.add_argument("--max-epochs", type=int, default=1, help="intent encoder epochs")
    parser.add_argument("--seed", type=int, default=5, help="seed of the relabelling")
    args = parser.parse_args(argv)
    result = gate_check(args.items, args.users, args.max_epochs, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    keys = ("gate_promotes", "first_gate_promotes")
    print(json.dumps({v: {k: result[v][k] for k in keys} for v in ("good", "damaged")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
