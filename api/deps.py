"""Request helpers shared by the routers: the runtime, the client's address, 4xx errors."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from runtime.clients import client_address
from runtime.container import Runtime, UnknownItems
from runtime.inputs import HistoryEvent
from runtime.sessions import Slot, UnknownSession


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def client_key(request: Request, rt: Runtime) -> str:
    """Who a rate limit counts (runtime.clients): the same rule as the screens'."""
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers, rt.settings.api)


def check_sizes(rt: Runtime, message: str, history: list[HistoryEvent]) -> None:
    api = rt.settings.api
    if len(message) > api.max_message_chars:
        raise HTTPException(
            422, f"message is {len(message)} characters; at most {api.max_message_chars}"
        )
    if len(history) > api.max_history:
        raise HTTPException(422, f"history has {len(history)} events; at most {api.max_history}")
    try:
        rt.check_items([h.item_id for h in history])
    except UnknownItems as exc:
        raise HTTPException(422, str(exc)) from None


def session_slot(rt: Runtime, session_id: str) -> Slot:
    try:
        return rt.sessions.get(session_id)
    except UnknownSession:
        raise HTTPException(
            404, "unknown or expired session: start a new one by omitting session_id"
        ) from None


def rate_limit(request: Request, rt: Runtime, kind: str) -> None:
    """429 with Retry-After when this client has used up its `kind` bucket (chat, sessions,
    events, recommend)."""
    wait = rt.limiters[kind].take(client_key(request, rt))
    if wait > 0:
        raise HTTPException(
            429,
            f"too many {kind} requests; retry in {wait:.1f} s",
            headers={"Retry-After": str(max(1, round(wait + 0.5)))},
        )


def require_staff(request: Request, rt: Runtime) -> None:
    """401 unless the request has `Authorization: Bearer <staff token>` (api.staff_token_env)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    staff = rt.staff
    if scheme.lower() != "bearer" or staff is None or not staff.check_token(token.strip()):
        raise HTTPException(
            401,
            "staff only: send Authorization: Bearer <staff token>",
            headers={"WWW-Authenticate": "Bearer"},
        )


RuntimeDep = Annotated[Runtime, Depends(runtime)]
