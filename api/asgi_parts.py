"""Small ASGI pieces the security gate (api.security) needs: cookies parsed as Starlette
(and so Gradio) parses them, a request body read once and replayed to the app, the login
form's user name, and a JSON refusal sent without reaching the app."""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.requests import Request, cookie_parser
from starlette.types import Message, Receive, Scope, Send


def cookies(headers: Headers) -> dict[str, str]:
    """Parsed as Starlette (and so Gradio) parses them, so both see the same cookies."""
    return cookie_parser(headers.get("cookie", ""))


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def form_user(scope: Scope, body: bytes) -> str:
    """The login form's user name, lower case (empty when the form cannot be read)."""
    try:
        form = await Request(scope, replay(body)).form()
    except Exception:  # Gradio answers a bad form itself
        return ""
    return str(form.get("username") or "").strip().lower()


async def refuse(send: Send, status: int, detail: str, extra: dict[str, str]) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"x-content-type-options", b"nosniff")]
    headers += [(k.encode(), v.encode()) for k, v in extra.items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
