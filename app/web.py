"""The FastAPI application: routers, error shapes, a body-size cap, and the mounted screens."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import catalog, chat, security
from core import __version__
from core.errors import LongtailError, ServiceUnavailable
from core.offline import go_offline
from runtime.container import Runtime
from runtime.sessions import hash_session_ids

go_offline()  # before Gradio is imported: no analytics, no hub
log = logging.getLogger("longtail.api")
TURN_LOG = "longtail.agent.turns"  # one JSON trace per turn, with the session id

MAX_BODY_BYTES = 1_000_000


def create_app(rt: Runtime, screens: bool = True, owns_runtime: bool = False) -> FastAPI:
    """The API over `rt`; with `screens`, the Gradio shopper chat, console and studio too.

    With `owns_runtime` the app closes `rt` (its ranking workers) when the server shuts
    down: uvicorn ends a SIGTERM'd process by re-raising the signal once the app has shut
    down, so code after `uvicorn.run` does not run then.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if owns_runtime:
            rt.close()

    app = FastAPI(
        lifespan=lifespan,
        title="longtail",
        version=__version__,
        description="A conversational shopping assistant that finds the right lesser-known "
        "products. Start a chat with POST /v1/chat (no session_id), then pass the returned "
        "session_id on every later call.",
    )
    app.state.runtime = rt
    hash_session_ids(TURN_LOG)
    app.include_router(chat.router)
    app.include_router(catalog.router)
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(ServiceUnavailable, _unavailable)  # type: ignore[arg-type]
    app.add_exception_handler(LongtailError, _longtail_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _internal_error)
    security.install(app, rt.settings.api)
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)  # outermost: caps what the gate reads
    if screens:
        from ui.mount import mount_screens

        mount_screens(app, rt)
    return app


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """Which field and why, without echoing the (possibly huge) input back."""
    problems = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()[:20]
    ]
    return JSONResponse({"detail": problems}, status_code=422)


async def _longtail_error(request: Request, exc: LongtailError) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=422)


async def _unavailable(request: Request, exc: ServiceUnavailable) -> JSONResponse:
    """The vector store is down or ranking hung: a retryable 503 that says so, not a 500."""
    return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "5"})


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "internal error"}, status_code=500)


class BodyLimit:
    """413 for a request body over `limit` bytes, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(send, self.limit)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(send, self.limit)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    body = f'{{"detail": "request body over {limit} bytes"}}'.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})
