"""`longtail serve`: the REST API and the Gradio screens on one server, loopback by default."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from longtail.console import err


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
    import uvicorn

    from api.app import create_app
    from api.runtime import Runtime
    from longtail.settings import load_settings
    from serving.client import LLMConfig, ensure_llm

    settings = load_settings()
    api = settings.api
    host = host or api.host
    port = port or api.port
    if data is None:
        if api.data is not None:
            data = api.data
        else:
            from longtail.commands.ingest import prepare_demo

            data = prepare_demo(settings)
    handle = None
    llm_config = None
    if not no_llm:
        if llm_url:
            llm_config = LLMConfig.from_settings(settings.llm, llm_url)
        else:
            with err.status("starting the LLM"):
                handle = ensure_llm(settings, check=False)
            llm_config = handle.config
    try:
        with err.status(f"opening {data}"):
            rt = Runtime.open(settings, data, llm_config)
        app = create_app(rt)
        url = f"http://{host}:{port}"
        err.print(f"shopper chat  {url}/chat/   (widget: {url}/widget/)")
        staff = rt.staff
        if staff is not None and staff.enabled:
            err.print(f"staff console {url}/console/   prompt studio {url}/studio/")
            if staff.generated:
                err.print(
                    f"staff login: {staff.user} / {staff.password}  (generated for this run; "
                    f"set {api.staff_password_env} to choose one)"
                )
        else:
            err.print("staff screens off: production mode needs staff credentials in the env")
        err.print(f"REST API      {url}/docs")
        if host not in ("127.0.0.1", "localhost", "::1"):
            err.print(f"[yellow]listening on {host}: reachable beyond this machine[/yellow]")
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        if handle is not None:
            handle.stop()
