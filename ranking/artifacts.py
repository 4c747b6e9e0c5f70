"""Trained models on disk: one folder per dataset and model, each with its data fingerprint.

`longtail train` writes them, each folder as one step (core.atomic: a retrain killed
half-way leaves the old model serving); the agent and the API load them, and a model trained
on another catalog is refused with a message that says to retrain.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from catalog.dataset import Dataset
from core.atomic import current
from ranking import registry
from ranking.scorer import Scorer, ScorerError, TrainingData


def artifacts_dir(home: Path, dataset_name: str) -> Path:
    return Path(home) / "artifacts" / dataset_name


def serving_training_data(dataset: Dataset) -> TrainingData:
    """All interactions but each user's last, which is held out for early stopping only."""
    sequences = dataset.sequences()
    events = dataset.event_sequences()
    train, train_events, validation = [], [], []
    for sequence, codes in zip(sequences, events, strict=True):
        if len(sequence) >= 2:
            train.append(sequence[:-1])
            train_events.append(codes[:-1])
            validation.append((sequence[:-1], int(sequence[-1])))
        else:
            train.append(sequence)
            train_events.append(codes)
    return TrainingData(
        products=dataset.products,
        sequences=train,
        events=train_events,
        validation=validation,
        fingerprint=dataset.fingerprint(),
    )


def load_trained(home: Path, dataset: Dataset, model: str) -> Scorer:
    """The saved `model` for this dataset; a clear error when missing or trained elsewhere."""
    folder = artifacts_dir(home, dataset.name) / model
    if not (current(folder) / "config.json").is_file():
        raise ScorerError(
            f"no trained {model!r} model for dataset {dataset.name!r} in {folder}; "
            f"run `longtail train --data <folder> --models {model}`"
        )
    return load_trained_from(folder.parent, model, dataset)


def load_trained_from(folder: Path, model: str, dataset: Dataset) -> Scorer:
    """`model` as saved under `folder`: the serving folder or a model version's."""
    scorer_type = type(registry.get(model).build(0))
    return scorer_type.load(folder / model, fingerprint=dataset.fingerprint())


def training_summary(scorer: Scorer) -> dict[str, float | int]:
    """Epochs and best validation quality, where the scorer keeps a training log."""
    log = getattr(scorer, "history_log", None)
    if not log:
        return {}
    best = max(log, key=lambda row: row.get("valid_ndcg@10", -np.inf))
    return {
        "epochs": len(log),
        "best_epoch": int(best["epoch"]),
        **{k: round(float(v), 5) for k, v in best.items() if k.startswith("valid")},
    }
