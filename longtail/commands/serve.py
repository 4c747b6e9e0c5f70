"""`longtail serve`: the REST API and the Gradio screens on one server, loopback by default."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from longtail.console import err

if TYPE_CHECKING:
    from api.runtime import Runtime
    from longtail.settings import Settings

LOOPBACK = ("127.0.0.1", "localhost", "::1")


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
    from longtail.settings import load_settings

    settings = load_settings()
    if data is None:
        if settings.api.data is not None:
            data = settings.api.data
        else:
            from longtail.commands.demo import prepare_demo

            data = prepare_demo(settings)
    run_server(settings, data, host=host, port=port, no_llm=no_llm, llm_url=llm_url)


def run_server(
    settings: Settings,
    data: Path,
    host: str | None = None,
    port: int | None = None,
    no_llm: bool = False,
    llm_url: str | None = None,
) -> None:
    """Start the LLM (unless `no_llm` or a URL is given), open `data`, print the URLs and
    serve until interrupted; shared by `longtail serve` and `longtail demo`."""
    import uvicorn

    from api.app import create_app
    from api.runtime import Runtime
    from longtail.commands.llm import chosen_llm

    api = settings.api
    host = host or api.host
    port = port or api.port
    with chosen_llm(settings, no_llm=no_llm, url=llm_url) as llm_config:
        with err.status(f"opening {data}"):
            rt = Runtime.open(settings, data, llm_config)
        with err.status("warming up the ranker"):
            warm_up(rt)
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
        if host not in LOOPBACK:
            err.print(f"[yellow]listening on {host}: reachable beyond this machine[/yellow]")
        uvicorn.run(app, host=host, port=port, log_level="warning")


def warm_up(rt: Runtime) -> None:
    """One ranking with a message and a history before the first shopper: it loads the
    query encoder and the intent model, which would otherwise cost the first requests
    seconds (and time out under load)."""
    from ranking.request import RankRequest

    first = rt.dataset.item_ids[0]
    rt.agent.services.ranker.rank(RankRequest(history=(first,), message="warm up", k=1))
