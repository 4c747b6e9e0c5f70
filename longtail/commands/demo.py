"""`longtail demo`: the main command. Prepare the demo store (generate, ingest, train, each
only when missing or stale), then serve the chat with the embedded LLM on loopback."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from longtail.console import err, print_json


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
    from core.settings import load_settings
    from longtail.prepare import prepare_all

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
    from longtail.server import run_server

    err.print(f"[bold]open {result['url']}[/bold]  (Ctrl-C stops the server)")
    run_server(settings, Path(result["demo_dir"]), host=host, port=port, no_llm=no_llm)


def _print_summary(result: dict[str, Any]) -> None:
    verb = "generated" if result["created"] else "ready"
    err.print(
        f"demo store {verb} in {result['demo_dir']}: {result['items']} products, "
        f"{result['interactions']} interactions of {result['users']} shoppers"
    )
    err.print(f"vector store: {result['store']['state']}")
    models = ", ".join(f"{name} {m['state']}" for name, m in result["models"].items())
    err.print(f"models: {models}  ({result['seconds']} s)")
