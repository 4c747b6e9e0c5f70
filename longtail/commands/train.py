"""`longtail train`: fit the serving models (intent encoder, CF, hybrid ranker) and save
them with their config and data fingerprint."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from longtail.console import err, print_json, print_table

if TYPE_CHECKING:
    from catalog.dataset import Dataset
    from longtail.settings import Settings


def train(
    data: Annotated[
        Path | None, typer.Option("--data", help="dataset folder (default: the demo store)")
    ] = None,
    models: Annotated[
        str, typer.Option("--models", help="comma-separated models to train")
    ] = "intent,cf,hybrid",
    max_epochs: Annotated[
        int | None, typer.Option("--max-epochs", min=1, help="cap on intent training epochs")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Train models on all interactions (each user's last one held out for early stopping)."""
    from catalog.loading import load_dataset
    from longtail.settings import load_settings
    from ranking import registry

    settings = load_settings()
    if data is None:
        from longtail.commands.demo import prepare_demo

        data = prepare_demo(settings)
    names = [m.strip() for m in models.split(",") if m.strip()]
    for name in names:
        registry.get(name)  # unknown names fail before any work
    dataset = load_dataset(data)
    results = train_models(settings, dataset, names, max_epochs)
    summary = {"dataset": dataset.name, "fingerprint": dataset.fingerprint(), "models": results}
    if json_output:
        print_json(summary)
    else:
        rows = [(name, r["seconds"], r.get("epochs", ""), r["path"]) for name, r in results.items()]
        print_table(f"trained on {dataset.name}", ["model", "seconds", "epochs", "saved to"], rows)


def train_models(
    settings: Settings, dataset: Dataset, names: list[str], max_epochs: int | None = None
) -> dict[str, dict[str, Any]]:
    """Fit and save each named model for `dataset`; also what `longtail demo` runs."""
    from ranking import registry
    from ranking.artifacts import artifacts_dir, serving_training_data, training_summary
    from ranking.fitted import fit_once

    specs = [registry.get(name) for name in names]
    training = serving_training_data(dataset)
    out = artifacts_dir(settings.home, dataset.name)
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
