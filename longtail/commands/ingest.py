"""`longtail ingest`: embed a dataset's products into its vector store, incrementally."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from longtail.console import err, print_json


def ingest(
    data: Annotated[
        Path | None,
        typer.Option("--data", help="dataset folder (generic or amazon); default: the demo store"),
    ] = None,
    rebuild: Annotated[
        bool,
        typer.Option("--rebuild", help="drop the store first, e.g. after changing the encoder"),
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Embed and store a catalog: only new or changed products are embedded, removed ones
    are deleted; an interrupted run resumes where it stopped."""
    from agent.calibration import save_vocabulary
    from catalog.loading import load_dataset
    from core.settings import load_settings
    from longtail.prepare import prepare_demo
    from retrieval.encoder_factory import build_encoder
    from retrieval.ingest import ingest as run_ingest
    from retrieval.ingest import rebuild as drop_store
    from retrieval.layout import StoreLayout

    settings = load_settings()
    folder = data if data is not None else prepare_demo(settings)
    dataset = load_dataset(folder)
    with err.status(f"loading the {settings.encoder.model} encoder"):
        encoder = build_encoder(settings.encoder)
    layout = StoreLayout.for_data(settings, folder)
    if rebuild:
        drop_store(settings, layout)
    report = run_ingest(dataset, settings, layout, encoder)
    with err.status("deriving the agent's vocabulary from the catalog"):
        vocabulary_path = save_vocabulary(dataset, encoder, layout.folder, settings)
    if json_output:
        print_json({**report.as_dict(), "vocabulary": str(vocabulary_path)})
    else:
        err.print(
            f"{dataset.name}: {report.items} products in {report.store} — {report.added} added, "
            f"{report.updated} updated, {report.deleted} deleted, {report.unchanged} unchanged "
            f"({report.embedded} embedded in {report.seconds:.1f}s)"
        )
