"""`longtail llm`: serve the packaged model, check any OpenAI-compatible server, list models."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from longtail.console import err, print_json, print_table

if TYPE_CHECKING:
    from core.settings import Settings
    from serving.client import LLMConfig

app = typer.Typer(
    help="Serve the packaged LLM and check OpenAI-compatible LLM servers.", no_args_is_help=True
)

Json = Annotated[bool, typer.Option("--json", help="print one JSON object")]


@app.command()
def serve(
    model: Annotated[
        str | None,
        typer.Option("--model", help="packaged model (default: llm.model)"),
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="port on 127.0.0.1 (default: a free one)")
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option("--threads", help="CPU threads (default: llm.threads; 0 = the free cores)"),
    ] = None,
) -> None:
    """Start the embedded llama.cpp server and serve until Ctrl-C; prints its URL."""
    from core.settings import load_settings
    from serving.embedded import start_embedded

    settings = load_settings()
    llm = settings.llm
    name = model or llm.model
    with err.status(f"starting the embedded LLM server ({name})"):
        server = start_embedded(
            name,
            settings.home,
            port=llm.port if port is None else port,
            threads=llm.threads if threads is None else threads,
            context=llm.context,
        )

    def _terminate(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM (kill, systemd, docker stop) stops it like Ctrl-C

    signal.signal(signal.SIGTERM, _terminate)
    try:
        print(server.base_url, flush=True)
        err.print(
            f"serving {name} with {server.threads} thread(s) at {server.base_url} "
            f"(OpenAI-compatible); Ctrl-C stops it"
        )
        code = server.wait()
        err.print(f"[red]the LLM server stopped on its own (status {code})[/red]")
        err.print(server.log_tail(), markup=False, highlight=False)
        raise typer.Exit(1)
    except KeyboardInterrupt:
        err.print("stopping the LLM server")
    finally:
        server.stop()


@app.command()
def check(
    url: Annotated[
        str | None,
        typer.Option("--url", help="server base URL (default: llm.url, else start the embedded)"),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="model name (default: llm.model)")
    ] = None,
    json_output: Json = False,
) -> None:
    """Report model, latency, time to first token, tokens/s, JSON-schema and tool-call support.

    Exit status 0 when everything works, 1 otherwise.
    """
    from core.settings import load_settings
    from serving.check import run_check, summary_lines
    from serving.client import LLMConfig, ensure_llm

    settings = load_settings()
    llm = settings.llm
    overrides = {"model": model} if model else {}
    handle = None
    if url:
        config = LLMConfig.from_settings(llm, url, **overrides)
    else:
        with err.status("no llm.url set: starting the embedded LLM server"):
            handle = ensure_llm(settings, check=False)
        config = handle.config.with_(**overrides)
    try:
        with err.status(f"checking {config.base_url}"):
            result = run_check(config)
    finally:
        if handle is not None:
            handle.stop()
    if json_output:
        print_json(result)
    else:
        print_table("LLM check", ["what", "value"], summary_lines(result))
        for message in result["errors"]:
            err.print(f"[red]{message}[/red]", highlight=False)
    if not result["ok"]:
        sys.exit(1)


@app.command()
def models(
    json_output: Json = False,
    verify: Annotated[
        bool, typer.Option("--verify", help="hash the assembled files again (sha256)")
    ] = False,
) -> None:
    """List the packaged models: wheels installed, assembled, where."""
    from core.settings import load_settings
    from serving.models import MODELS, describe, ensure_model, models_dir

    home = load_settings().home
    if verify:
        for name, model in MODELS.items():
            if (models_dir(home) / model.filename).is_file():
                ensure_model(name, home, verify=True)
    rows = describe(home)
    if json_output:
        print_json(rows)
        return
    print_table(
        "packaged LLMs",
        ["name", "default", "MB", "wheels installed", "assembled"],
        [
            (
                r["name"],
                "yes" if r["default"] else "",
                round(int(r["size"]) / 1e6),
                "yes" if r["wheels_installed"] else "no",
                "yes" if r["assembled"] else "no",
            )
            for r in rows
        ],
    )
    for r in rows:
        if not r["wheels_installed"]:
            err.print(f"to install {r['name']}: {r['install']}", markup=False, highlight=False)


@contextmanager
def chosen_llm(
    settings: Settings, *, no_llm: bool = False, url: str | None = None
) -> Iterator[LLMConfig | None]:
    """The LLM a command runs with: none (`--no-llm`), the server at `url`, or the
    configured one (`llm.url`, else a freshly started embedded server, stopped on exit)."""
    from serving.client import LLMConfig, ensure_llm

    if no_llm:
        yield None
    elif url:
        yield LLMConfig.from_settings(settings.llm, url)
    else:
        with err.status("starting the LLM"):
            handle = ensure_llm(settings, check=False)
        try:
            yield handle.config
        finally:
            handle.stop()
