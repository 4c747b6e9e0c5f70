"""POST /v1/chat and its streaming variant (server-sent events).

A turn waits for one of `api.chat_concurrency` slots (so a saturated LLM queues requests
rather than failing them) for at most `api.chat_queue_timeout_s`, then answers 503. Requests
of one session run one after another under the session's lock.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse

from agent.agent import TurnResult
from agent.session import Session
from api.deps import RuntimeDep, check_sizes, rate_limit, session_slot
from api.runtime import Runtime
from api.schemas import ChatRequest, ChatResponse, history_events
from api.streaming import stream_turn

router = APIRouter(prefix="/v1", tags=["chat"])
log = logging.getLogger("longtail.api")


def _start(request: Request, body: ChatRequest, rt: Runtime) -> tuple[Session, threading.Lock]:
    """Checks, then the session (new or existing) and its lock; the turn slot is taken."""
    rate_limit(request, rt, "chat")
    history = history_events(body.history)
    check_sizes(rt, body.message, history)
    if body.session_id is None:
        session = rt.new_session(history)
    else:
        session = session_slot(rt, body.session_id).session
    lock = rt.sessions.get(session.session_id).lock
    if not rt.turns.acquire(timeout=rt.settings.api.chat_queue_timeout_s):
        raise HTTPException(
            503, "the assistant is busy; retry shortly", headers={"Retry-After": "5"}
        )
    return session, lock


def _response(session: Session, result: TurnResult) -> ChatResponse:
    return ChatResponse(
        session_id=session.session_id,
        turn=result.trace.turn,
        answer=result.answer,
        suggestions=result.suggestions,
        reduced_mode=result.reduced_mode,
    )


@router.post("/chat", response_model=ChatResponse, summary="one chat turn")
def chat(request: Request, body: ChatRequest, rt: RuntimeDep) -> ChatResponse:
    """The assistant's answer and product suggestions; keep `session_id` for the next turn."""
    session, lock = _start(request, body, rt)
    try:
        with lock:
            result = rt.agent.turn(session, body.message)
    finally:
        rt.turns.release()
    return _response(session, result)


@router.post(
    "/chat/stream",
    summary="one chat turn, streamed as server-sent events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def chat_stream(request: Request, body: ChatRequest, rt: RuntimeDep) -> StreamingResponse:
    """Events: `session` {session_id}, then `token` {text} as the answer grows, then `done`
    (the whole ChatResponse) or `error` {detail}."""
    session, lock = _start(request, body, rt)
    turn = stream_turn(rt.agent, session, body.message, lock, on_end=rt.turns.release)

    def events() -> Iterator[str]:
        yield _sse("session", {"session_id": session.session_id})
        try:
            for piece in turn:
                if isinstance(piece, str):
                    yield _sse("token", {"text": piece})
                else:
                    yield _sse("done", _response(session, piece).model_dump())
        except Exception:
            log.exception("a streamed turn failed")
            yield _sse("error", {"detail": "the turn failed; please try again"})

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


def _sse(event: str, data: object) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"
