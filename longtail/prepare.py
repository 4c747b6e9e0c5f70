"""Getting a dataset ready to serve: the demo store generated, the catalog ingested, the
serving models trained, each only when missing or stale. Used by `longtail demo`, `serve`,
`train`, `ingest` and `eval-chat`; it imports no command, so no command imports another."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from longtail.console import err

if TYPE_CHECKING:
    from catalog.dataset import Dataset
    from core.settings import Settings
    from ranking.scorer import TrainingData

SERVING_MODELS = ("intent", "cf", "hybrid")  # what `longtail serve` loads
CONFIG_STAMP = ".demo-config.json"  # the generator's settings beside the generated files


def prepare_all(settings: Settings, regenerate: bool = False) -> dict[str, Any]:
    """Generate, ingest and train the demo store as needed; what was done, as a dict."""
    from catalog.loading import load_dataset

    folder = settings.demo_dir
    created = regenerate or _needs_generating(settings)
    if created:
        _generate(settings)
    # Always as read back from disk: that is what `serve` loads and fingerprints.
    dataset = load_dataset(folder)
    summary = dataset.stats()
    return {
        "demo_dir": str(folder),
        "created": created,
        "items": summary["items"],
        "users": summary["users"],
        "interactions": summary["interactions"],
        "tail_interaction_share": summary["tail_interaction_share"],
        "store": ensure_ingested(settings, folder, dataset),
        "models": ensure_trained(settings, dataset),
    }


def prepare_demo(settings: Settings) -> Path:
    """The demo store's folder, generated first if missing (what other commands default to)."""
    if _needs_generating(settings):
        _generate(settings)
    return settings.demo_dir


def _needs_generating(settings: Settings) -> bool:
    """Missing, or generated with another seed or size than the settings now ask for."""
    import json

    from catalog.generic import is_generic

    folder = settings.demo_dir
    if not is_generic(folder):
        return True
    stamp = folder / CONFIG_STAMP
    if not stamp.is_file():
        return False  # generated before stamps existed: keep it (--regenerate replaces it)
    try:
        return json.loads(stamp.read_text()) != _demo_config(settings)
    except ValueError:
        return True


def _demo_config(settings: Settings) -> dict[str, int]:
    return {"seed": settings.seed, "items": settings.demo.items, "users": settings.demo.users}


def _generate(settings: Settings) -> None:
    import json

    from catalog.demo import DemoConfig, write_demo

    folder = settings.demo_dir
    config = _demo_config(settings)
    with err.status(f"generating the demo store in {folder}"):
        write_demo(folder, DemoConfig(**config))
    (folder / CONFIG_STAMP).write_text(json.dumps(config) + "\n")


def ensure_ingested(settings: Settings, folder: Path, dataset: Dataset) -> dict[str, Any]:
    """Ingest when the vector store is missing, built with another encoder, or holds another
    catalog than `dataset` (its sync digest differs); else leave it as it is."""
    from retrieval.chroma_store import ChromaStore
    from retrieval.encoder_factory import build_encoder
    from retrieval.errors import StoreError
    from retrieval.ingest import ingest, item_records, rebuild
    from retrieval.layout import StoreLayout
    from retrieval.snapshot import current_digest, snapshot_digest

    layout = StoreLayout.for_data(settings, folder)
    records, _ = item_records(dataset, settings.encoder.template)
    digest = snapshot_digest(records)
    try:
        store = ChromaStore.open(settings.store, layout)
        encoder_matches = store.encoder_name == settings.encoder.model
        fresh = encoder_matches and store.synced_digest() == digest
    except StoreError:
        encoder_matches, fresh = True, False  # no store yet
    if fresh and current_digest(layout.snapshots_dir) == digest:
        return {"state": "up to date", "path": str(layout.folder)}
    with err.status(f"loading the {settings.encoder.model} encoder"):
        encoder = build_encoder(settings.encoder)
    if not encoder_matches:
        err.print(f"the demo store was embedded with another encoder: rebuilding {layout.folder}")
        rebuild(settings, layout)
    report = ingest(dataset, settings, layout, encoder)
    return {"state": "ingested", **report.as_dict()}


def stale_models(settings: Settings, dataset: Dataset) -> list[str]:
    """The serving models that are missing or were trained on another catalog."""
    import json

    from ranking.artifacts import artifacts_dir

    fingerprint = dataset.fingerprint()
    stale = []
    for name in SERVING_MODELS:
        config = artifacts_dir(settings.home, dataset.name) / name / "config.json"
        try:
            trained_on = json.loads(config.read_text()).get("fingerprint")
        except (OSError, ValueError):
            trained_on = None
        if trained_on != fingerprint:
            stale.append(name)
    return stale


def ensure_trained(settings: Settings, dataset: Dataset) -> dict[str, Any]:
    """Train the models that `stale_models` names; report each as trained or up to date."""
    stale = stale_models(settings, dataset)
    trained = train_models(settings, dataset, stale) if stale else {}
    return {
        name: {"state": "trained", **trained[name]} if name in trained else {"state": "up to date"}
        for name in SERVING_MODELS
    }


def train_models(
    settings: Settings,
    dataset: Dataset,
    names: list[str],
    max_epochs: int | None = None,
    training: TrainingData | None = None,
    out: Path | None = None,
) -> dict[str, dict[str, Any]]:
    """Fit and save each named model for `dataset`; also what `longtail demo` runs.

    `training` (default: the dataset's serving data) and `out` (default: the serving
    folders) let `train --with-events` fit a model version from merged events."""
    from ranking import registry
    from ranking.artifacts import artifacts_dir, serving_training_data, training_summary
    from ranking.fitted import fit_once

    specs = [registry.get(name) for name in names]
    training = training or serving_training_data(dataset)
    out = out or artifacts_dir(settings.home, dataset.name)
    results: dict[str, dict[str, Any]] = {}
    for spec in specs:
        params = dict(spec.grid[0])
        # A capped (quick) training skips the intent encoder's hyper-parameter search.
        quick = {"max_epochs": max_epochs, "search_budget_s": 0.0}
        if max_epochs and spec.name == "intent":
            params.update(quick)
        if max_epochs and spec.name.startswith("hybrid"):
            params["components"] = {"intent": quick}
        started = time.perf_counter()
        err.print(f"training {spec.name} on {dataset.name} ({dataset.n_interactions} interactions)")
        # fit_once: the hybrid ranker reuses the intent encoder trained just before it.
        scorer = fit_once(spec, params, training, settings.seed)
        scorer.save(out / spec.name, fingerprint=training.fingerprint)
        results[spec.name] = {
            "path": str(out / spec.name),
            "seconds": round(time.perf_counter() - started, 1),
            **training_summary(scorer),
        }
    return results
