"""`longtail serve`: the REST API and the Gradio screens on one server, loopback by default."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def serve(
    data: Annotated[
        Path | None, typer.Option(help="dataset folder (ingested and trained); default: demo")
    ] = None,
    host: Annotated[
        str | None, typer.Option(help="interface to listen on (default api.host, 127.0.0.1)")
    ] = None,
    port: Annotated[int | None, typer.Option(help="port (default api.port, 8080)")] = None,
    no_llm: Annotated[
        bool, typer.Option("--no-llm", help="no LLM: every chat turn runs in reduced mode")
    ] = False,
    llm_url: Annotated[
        str | None, typer.Option(help="an OpenAI-compatible server instead of llm.url")
    ] = None,
) -> None:
    """Serve the shopper chat, support console, prompt studio and REST API on one port."""
    from core.settings import load_settings
    from longtail.server import run_server

    settings = load_settings()
    if data is None:
        if settings.api.data is not None:
            data = settings.api.data
        else:
            from longtail.prepare import prepare_demo

            data = prepare_demo(settings)
    run_server(settings, data, host=host, port=port, no_llm=no_llm, llm_url=llm_url)
