"""Running the server: start the LLM (or not), open a dataset's runtime, warm the ranker,
print where everything is, serve until interrupted. Shared by `longtail serve` and `demo`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from longtail.console import err

if TYPE_CHECKING:
    from core.settings import Settings
    from runtime.container import Runtime

LOOPBACK = ("127.0.0.1", "localhost", "::1")


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
    from longtail.commands.llm import chosen_llm
    from runtime.container import Runtime

    host = host or settings.api.host
    port = port or settings.api.port
    with chosen_llm(settings, no_llm=no_llm, url=llm_url) as llm_config:
        workers = settings.api.rank_worker_count()
        opening = f"opening {data}" + (f" ({workers} ranking workers)" if workers else "")
        with err.status(opening):
            rt = Runtime.open(settings, data, llm_config)
        try:
            with err.status("warming up the ranker"):
                warm_up(rt)
            _serve(rt, settings, host, port)
        finally:
            rt.close()


def _serve(rt: Runtime, settings: Settings, host: str, port: int) -> None:
    """Print where everything is and serve `rt` until interrupted."""
    import uvicorn

    from app.web import create_app

    api = settings.api
    app = create_app(rt, owns_runtime=True)
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
    """One ranking in this process before the first shopper (ranking.ranker_pool.warm_up):
    it loads the query encoder that the agent's product search also uses here. A pool's
    workers warm themselves as they start."""
    from ranking.ranker_pool import warm_up as warm_ranker

    ranker = rt.agent.services.ranker
    warm_ranker(getattr(ranker, "local", ranker))
