"""The shopper chat: streamed answers, product cards, a click on a card is a view event.

The same screen in a compact layout is the embeddable widget (/widget/). A browser tab holds
only its server-issued session id (gr.State), so tabs never see each other's history.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from agent.agent import ShoppingAgent, TurnResult
from agent.session import Session
from agent.trace import Suggestion
from core.errors import ServiceUnavailable
from runtime.clients import client_address
from runtime.container import Assignment, Runtime
from runtime.inputs import clean_text
from runtime.sessions import UnknownSession
from runtime.streaming import stream_turn
from ui.cards import card_samples, price_text

WELCOME = "Tell me what you are looking for: a kind of product, a budget, brands to avoid."


def _session(rt: Runtime, session_id: str | None) -> str:
    if session_id is not None:
        try:
            rt.sessions.get(session_id)
            return session_id
        except UnknownSession:
            pass
    return rt.new_session([]).session_id


def _client(rt: Runtime, request: gr.Request | None) -> str:
    """The same client key as the API's (runtime.clients), so both doors share one bucket."""
    client = getattr(request, "client", None)
    headers = getattr(request, "headers", None) or {}
    return client_address(getattr(client, "host", None), headers, rt.settings.api)


def shopper_blocks(rt: Runtime, compact: bool = False) -> gr.Blocks:
    cards_empty = gr.Dataset(samples=[])

    def respond(
        message: str,
        chat: list[dict[str, Any]],
        session_id: str | None,
        request: gr.Request,
    ) -> Iterator[tuple[Any, ...]]:
        text = clean_text(message or "")
        if not text:
            yield chat, session_id, gr.skip(), gr.skip(), "", ""
            return
        limit = rt.settings.api.max_message_chars
        if len(text) > limit:
            refused = f"Please keep it under {limit} characters."
            yield chat, session_id, gr.skip(), gr.skip(), message, refused
            return
        wait = rt.limiters["chat"].take(_client(rt, request))
        if wait > 0:
            refused = f"Too many messages; try again in {wait:.0f} s."
            yield chat, session_id, gr.skip(), gr.skip(), message, refused
            return
        try:
            session_id = _session(rt, session_id)
        except ServiceUnavailable:
            refused = "The assistant is full right now; please try again in a minute."
            yield chat, session_id, gr.skip(), gr.skip(), message, refused
            return
        chat = [*chat, {"role": "user", "content": text}, {"role": "assistant", "content": "…"}]
        yield chat, session_id, gr.skip(), gr.skip(), "", ""
        if not rt.turns.acquire(timeout=rt.settings.api.chat_queue_timeout_s):
            chat[-1] = {"role": "assistant", "content": "I am busy right now; please try again."}
            yield chat, session_id, gr.skip(), gr.skip(), text, ""
            return
        answer = ""
        result: TurnResult | None = None
        held = rt.sessions.hold(session_id)
        arms: list[Assignment] = []  # the session's experiment arm, as on /v1/chat

        def agent_for(session: Session) -> ShoppingAgent:
            agent, assigned = rt.variant(session)
            arms.extend([assigned] if assigned is not None else [])
            return agent

        for piece in stream_turn(agent_for, held, text, rt.turns.release):
            if isinstance(piece, str):
                answer += piece
                chat[-1] = {"role": "assistant", "content": answer}
                yield chat, session_id, gr.skip(), gr.skip(), "", ""
            else:
                result = piece
        assert result is not None
        for assigned in arms:
            assigned.show(rt.events, [s.item_id for s in result.suggestions])
        chat[-1] = {"role": "assistant", "content": result.answer}
        shown = [s.model_dump() for s in result.suggestions]
        cards = gr.Dataset(samples=card_samples(result.suggestions))
        yield chat, session_id, cards, shown, "", ""

    def open_card(
        index: int | None, session_id: str | None, shown: list[dict], request: gr.Request
    ) -> str:
        if index is None or session_id is None or not 0 <= index < len(shown):
            return ""
        if rt.limiters["events"].take(_client(rt, request)) > 0:  # the API's events bucket
            return "Too many clicks; wait a moment."
        card = Suggestion.model_validate(shown[index])
        try:
            rt.sessions.get(session_id)
            rt.events.record(session_id, card.item_id, "view", source="ui")
            rt.add_view(session_id, card.item_id, "view")
        except UnknownSession:
            return "This conversation has expired; start over."
        except ServiceUnavailable:
            return "Could not note that click right now; please try again."
        return (
            f"**#{index + 1} {card.title}** ({price_text(card.price)}). Ask *tell me more about "
            f"#{index + 1}* or *more like #{index + 1}*."
        )

    def start_over(session_id: str | None) -> tuple[Any, ...]:
        if session_id is not None:
            rt.sessions.drop(session_id)
        return [], None, cards_empty, [], "", ""

    with gr.Blocks(title="longtail shop assistant", fill_height=compact) as blocks:
        session_id = gr.State(None)
        shown = gr.State([])
        if not compact:
            gr.Markdown("## Shop assistant\n" + WELCOME)
        chatbot = gr.Chatbot(
            height=260 if compact else 420,
            show_label=False,
            elem_id="lt-chat",
            placeholder=WELCOME if compact else None,
        )
        with gr.Row(equal_height=True):
            box = gr.Textbox(
                placeholder="e.g. a waterproof hiking backpack under $60",
                show_label=False,
                scale=5,
                elem_id="lt-message",
                max_length=rt.settings.api.max_message_chars,
            )
            send = gr.Button("Send", variant="primary", scale=1, elem_id="lt-send")
        cards = gr.Dataset(
            components=["html"],
            samples=[],
            type="index",
            layout="gallery",
            label="Suggestions (click one to look at it)",
            elem_id="lt-cards",
            elem_classes=["lt-compact"] if compact else None,
            samples_per_page=6,
        )
        notice = gr.Markdown(elem_id="lt-notice")
        restart = gr.Button("Start over", size="sm", elem_id="lt-restart")

        outputs = [chatbot, session_id, cards, shown, box, notice]
        send.click(respond, [box, chatbot, session_id], outputs, api_name="chat")
        box.submit(respond, [box, chatbot, session_id], outputs, api_name=False)
        cards.click(open_card, [cards, session_id, shown], notice, api_name="open_card")
        restart.click(start_over, [session_id], outputs, api_name="start_over")
    return blocks
