"""Run one agent turn in a worker thread and hand its text over piece by piece.

The agent streams through a callback; HTTP (server-sent events) and Gradio both want an
iterator, so the turn runs in a thread that feeds a queue.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

from agent.agent import ShoppingAgent, TurnResult
from agent.session import Session

_END = object()


def stream_turn(
    agent_for: Callable[[Session], ShoppingAgent],
    held: AbstractContextManager[Session],
    message: str,
    on_end: Callable[[], None] | None = None,
) -> Iterator[str | TurnResult]:
    """Text pieces as they pass the grounding check, then the TurnResult; a failed turn
    raises its exception from the iterator. `held` (Sessions.hold) gives the session under
    its lock for the turn and keeps it after; `agent_for` picks the agent for that session
    (its experiment arm's). `on_end` runs when the turn is over."""
    pieces: queue.Queue[object] = queue.Queue()

    def work() -> None:
        try:
            with held as session:
                agent = agent_for(session)
                pieces.put(agent.turn(session, message, on_token=pieces.put))
        except Exception as exc:  # re-raised in the consumer
            pieces.put(exc)
        finally:
            if on_end is not None:
                on_end()
            pieces.put(_END)

    threading.Thread(target=work, name="turn", daemon=True).start()
    return _drain(pieces)  # the turn runs (and ends) even if nobody iterates


def _drain(pieces: queue.Queue[object]) -> Iterator[str | TurnResult]:
    while (piece := pieces.get()) is not _END:
        if isinstance(piece, BaseException):
            raise piece
        yield piece  # type: ignore[misc]
