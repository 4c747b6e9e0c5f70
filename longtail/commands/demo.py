"""`longtail demo`: the main command. Prepare the demo store (generate, ingest, train, each
only when missing or stale), then serve the chat with the embedded LLM on loopback."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from longtail.console import err, print_json

if TYPE_CHECKING:
    from catalog.dataset import Dataset
    from longtail.settings import Settings

SERVING_MODELS = ("intent", "cf", "hybrid")  # what `longtail serve` loads
CONFIG_STAMP = ".demo-config.json"  # the generator's settings beside the generated files


def demo(
    regenerate: Annotated[
        bool, typer.Option("--regenerate", help="rebuild the demo store even if it exists")
    ] = False,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="prepare the store and models, then exit")
    ] = False,
    no_llm: Annotated[
        bool, typer.Option("--no-llm", help="serve without an LLM (every chat turn reduced mode)")
    ] = False,
    host: Annotated[
        str | None, typer.Option(help="interface to listen on (default api.host, 127.0.0.1)")
    ] = None,
    port: Annotated[int | None, typer.Option(help="port (default api.port, 8080)")] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="print what was prepared as one JSON object")
    ] = False,
) -> None:
    """Prepare the demo store (catalog and shopper logs, vectors, trained ranker) where it
    is missing or stale, then start the embedded LLM and serve the chat; prints the URL."""
    from longtail.settings import load_settings

    settings = load_settings()
    started = time.perf_counter()
    result = prepare_all(settings, regenerate=regenerate)
    result["seconds"] = round(time.perf_counter() - started, 2)
    if not no_serve:
        api = settings.api
        result["url"] = f"http://{host or api.host}:{port or api.port}/chat/"
    if json_output:
        print_json(result)
    else:
        _print_summary(result)
    if no_serve:
        return
    from longtail.commands.serve import run_server

    err.print(f"[bold]open {result['url']}[/bold]  (Ctrl-C stops the server)")
    run_server(settings, Path(result["demo_dir"]), host=host, port=port, no_llm=no_llm)


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
    from longtail.commands.train import train_models

    stale = stale_models(settings, dataset)
    trained = train_models(settings, dataset, stale) if stale else {}
    return {
        name: {"state": "trained", **trained[name]} if name in trained else {"state": "up to date"}
        for name in SERVING_MODELS
    }


def _print_summary(result: dict[str, Any]) -> None:
    verb = "generated" if result["created"] else "ready"
    err.print(
        f"demo store {verb} in {result['demo_dir']}: {result['items']} products, "
        f"{result['interactions']} interactions of {result['users']} shoppers"
    )
    err.print(f"vector store: {result['store']['state']}")
    models = ", ".join(f"{name} {m['state']}" for name, m in result["models"].items())
    err.print(f"models: {models}  ({result['seconds']} s)")
