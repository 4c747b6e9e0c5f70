"""`longtail train --with-events`: a model version from the dataset plus the event log,
judged by the promotion gate against the serving version and promoted only if it passes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from catalog.dataset import Dataset
    from core.settings import Settings


def train_version(
    settings: Settings,
    dataset: Dataset,
    names: list[str],
    max_epochs: int | None = None,
    promote: bool = True,
    shuffle_items_seed: int | None = None,
) -> dict[str, Any]:
    """Train `names` on dataset + events as a new version, gate it, promote if it passes.

    `shuffle_items_seed` trains on sequences whose items are randomly relabelled: a
    deliberately damaged version, to check that the gate refuses one."""
    from longtail.prepare import train_models
    from ranking import model_versions as mv
    from ranking.event_training import with_events
    from runtime.backends import open_event_log

    log = open_event_log(settings)
    try:
        events = log.read()
    finally:
        log.close()
    merged = with_events(dataset, events, settings.feedback)
    training = merged.training
    if shuffle_items_seed is not None:
        relabel = np.random.default_rng(shuffle_items_seed).permutation(dataset.n_items)
        training.sequences = [relabel[s] for s in training.sequences]
    version = mv.new_version_id()
    folder = mv.versions_dir(settings.home, dataset.name) / version
    results = train_models(settings, dataset, names, max_epochs, training=training, out=folder)
    slices = {"recent_dataset": merged.dataset_holdout, "recent_events": merged.holdout}
    gate = judge_all(settings, dataset, folder, names, slices)
    info = {
        "version": version,
        "dataset": dataset.name,
        "fingerprint": dataset.fingerprint(),
        "models": names,
        "events_through_id": max((e.id for e in events), default=0),
        "events_used": merged.events_used,
        "event_shoppers": merged.shoppers,
        "event_weights": merged.weights,
        "damaged": shuffle_items_seed is not None,
        "gate": gate,
        "trained": results,
    }
    mv.write_version(folder, info)
    promoted = promote and gate["promote"]
    if promoted:
        mv.promote(settings.home, dataset.name, version)
    return {**info, "promoted": promoted}


def judge_all(
    settings: Settings,
    dataset: Dataset,
    folder: Any,
    names: list[str],
    slices: dict[str, list[tuple[np.ndarray, int]]],
) -> dict[str, Any]:
    """Each model of the version against its serving copy; one refusal refuses the version."""
    from evaluation.gate import judge
    from ranking.artifacts import load_trained, load_trained_from
    from ranking.scorer import ScorerError

    per_model = {}
    for name in names:
        candidate = load_trained_from(folder, name, dataset)
        try:
            serving = load_trained(settings.home, dataset, name)
        except ScorerError:
            serving = None
        per_model[name] = judge(candidate, serving, dataset, slices, settings.feedback)
    reasons = [f"{name}: {r}" for name, g in per_model.items() for r in g["reasons"]]
    return {"promote": not reasons, "reasons": reasons, "models": per_model}
