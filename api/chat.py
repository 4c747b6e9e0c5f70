"""POST /v1/chat and its streaming variant (server-sent events).

A turn waits for one of `api.chat_concurrency` slots (so a saturated LLM queues requests
rather than failing them) for at most `api.chat_queue_timeout_s`, then answers 503. Requests
of one session run one after another under the session's lock (`Sessions.hold`: a Redis lock
across replicas with the Redis backend), which also keeps what the turn changed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse

from agent.agent import ShoppingAgent, TurnResult
from agent.session import Session
from api.deps import RuntimeDep, check_sizes, rate_limit, session_slot
from api.schemas import ChatRequest, ChatResponse, history_events
from runtime.container import Assignment, Runtime
from runtime.streaming import stream_turn

router = APIRouter(prefix="/v1", tags=["chat"])
log = logging.getLogger("longtail.api")


def _start(request: Request, body: ChatRequest, rt: Runtime) -> str:
    """Checks, then the id of the session (new or existing); the turn slot is taken."""
    rate_limit(request, rt, "chat")
    rt.refresh_models()
    history = history_events(body.history)
    check_sizes(rt, body.message, history)
    if body.session_id is None:
        session_id = rt.new_session(history, body.user_id).session_id
    else:
        session_id = session_slot(rt, body.session_id).session.session_id
    if not rt.turns.acquire(timeout=rt.settings.api.chat_queue_timeout_s):
        raise HTTPException(
            503, "the assistant is busy; retry shortly", headers={"Retry-After": "5"}
        )
    return session_id


def _response(session_id: str, result: TurnResult) -> ChatResponse:
    return ChatResponse(
        session_id=session_id,
        turn=result.trace.turn,
        answer=result.answer,
        suggestions=result.suggestions,
        reduced_mode=result.reduced_mode,
    )


@router.post("/chat", response_model=ChatResponse, summary="one chat turn")
def chat(request: Request, body: ChatRequest, rt: RuntimeDep) -> ChatResponse:
    """The assistant's answer and product suggestions; keep `session_id` for the next turn."""
    session_id = _start(request, body, rt)
    try:
        with rt.sessions.hold(session_id) as session:
            agent, assigned = rt.variant(session)
            result = agent.turn(session, body.message)
    finally:
        rt.turns.release()
    if assigned is not None:
        assigned.show(rt.events, [s.item_id for s in result.suggestions])
    return _response(session_id, result)


@router.post(
    "/chat/stream",
    summary="one chat turn, streamed as server-sent events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def chat_stream(request: Request, body: ChatRequest, rt: RuntimeDep) -> StreamingResponse:
    """Events: `session` {session_id}, then `token` {text} as the answer grows, then `done`
    (the whole ChatResponse) or `error` {detail}. Experiment arms apply as in /v1/chat; the
    suggestions are logged as exposures once `done` is sent."""
    session_id = _start(request, body, rt)
    held = rt.sessions.hold(session_id)
    arms: list[Assignment] = []

    def agent_for(session: Session) -> ShoppingAgent:
        agent, assigned = rt.variant(session)
        arms.extend([assigned] if assigned is not None else [])
        return agent

    turn = stream_turn(agent_for, held, body.message, on_end=rt.turns.release)

    def events() -> Iterator[str]:
        yield _sse("session", {"session_id": session_id})
        try:
            for piece in turn:
                if isinstance(piece, str):
                    yield _sse("token", {"text": piece})
                else:
                    yield _sse("done", _response(session_id, piece).model_dump())
                    for assigned in arms:
                        assigned.show(rt.events, [s.item_id for s in piece.suggestions])
        except Exception:
            log.exception("a streamed turn failed")
            yield _sse("error", {"detail": "the turn failed; please try again"})

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


def _sse(event: str, data: object) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"
