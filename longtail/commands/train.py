"""`longtail train`: fit the serving models (intent encoder, CF, hybrid ranker) and save
them with their config and data fingerprint."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from longtail.console import print_json, print_table


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
    from longtail.prepare import train_models
    from longtail.settings import load_settings
    from ranking import registry

    settings = load_settings()
    if data is None:
        from longtail.prepare import prepare_demo

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
