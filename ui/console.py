"""The support console (staff): ask as any shopper and see the whole trace; replay a saved
conversation; compare two tail-knob settings side by side.

Console conversations live in the staff member's Gradio state, never in the shoppers'
session store, so staff queries cannot touch a shopper's session.
"""

from __future__ import annotations

import json
from typing import Any

import gradio as gr

from agent.agent import ShoppingAgent, TurnResult
from agent.session import Session
from agent.trace import TurnTrace
from runtime.container import Runtime, UnknownItems
from runtime.inputs import clean_text
from ui.trace_view import (
    LLM_HEADERS,
    TIMING_HEADERS,
    TOOL_HEADERS,
    candidate_table,
    intent_view,
    llm_rows,
    timing_rows,
    tool_rows,
)

USERS_SHOWN = 200
EXPERIMENT_HEADERS = [
    "experiment",
    "variant",
    "units",
    "metric",
    "mean [95% CI]",
    "vs control [95% CI]",
    "p",
]


def parse_history(text: str) -> list[str]:
    """Item ids separated by commas, spaces or new lines."""
    return [t for t in text.replace(",", " ").split() if t]


def conversation_json(user: str, history: list[str], knob: float, messages: list[str]) -> str:
    """The saved form of a console conversation (what Replay reads back)."""
    record = {"user_id": user or None, "history": history, "tail_knob": knob, "messages": messages}
    return json.dumps(record, indent=2)


class Console:
    """The console's actions, independent of Gradio so that tests can call them."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def agent(self, knob: float) -> ShoppingAgent:
        return self.rt.agent_with(tail_knob=float(knob))

    def session(self, user: str, history: list[str]) -> Session:
        """The shopper's dataset history and logged events (API `user_id`), then `history`."""
        self.rt.check_items(history)
        user_id = user.strip() or None
        logged = self.rt.logged_history(user_id)
        if user_id is not None and user_id not in set(self.rt.dataset.user_ids) and not logged:
            raise ValueError(f"unknown shopper {user_id!r}: not a demo shopper, no logged events")
        session = self.agent(0.0).new_session(user_id=user_id)
        for event in logged:
            session.view(event.item_id, event.event)
        for item_id in history:
            session.view(item_id, "purchase")
        return session

    def experiments(self) -> tuple[list[list[Any]], str]:
        """One row per experiment, variant and metric, and each stopping rule in words."""
        rows: list[list[Any]] = []
        rules = []
        for experiment in self.rt.experiments:
            report = self.rt.experiment_report(experiment)
            versus = report["versus_control"]
            for variant, values in report["variants"].items():
                for metric, v in values.items():
                    if metric == "units":
                        continue
                    d = versus.get(variant, {}).get(metric)
                    rows.append(
                        [
                            experiment.name,
                            variant + (" (control)" if variant == experiment.control else ""),
                            values["units"],
                            metric,
                            f"{v['mean']:.4f} [{v['low']:.4f}, {v['high']:.4f}]",
                            ""
                            if d is None
                            else f"{d['diff']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}]",
                            "" if d is None else f"{d['p_value']:.3f}",
                        ]
                    )
            rule = report["stopping_rule"]
            state = "reached: read the result" if rule["reached"] else "not reached: keep running"
            rules.append(
                f"**{experiment.name}**: fixed horizon on {rule['metric']} (detect "
                f"{rule['min_detectable_effect']:g} at alpha {rule['alpha']:g}, power "
                f"{rule['power']:g}): {rule['units_needed_per_arm']} units per arm needed, "
                f"smallest arm has {rule['smallest_arm']} — {state}."
            )
        return rows, "\n\n".join(rules) or "No experiment is configured (`api.experiments_file`)."

    def ask(self, session: Session, message: str, knob: float) -> TurnResult:
        return self.agent(knob).turn(session, clean_text(message)[:4000] or "hello")

    def replay(self, saved: str) -> list[TurnResult]:
        record = json.loads(saved)
        session = self.session(record.get("user_id") or "", list(record.get("history", [])))
        knob = float(record.get("tail_knob", 0.5))
        return [self.ask(session, m, knob) for m in record.get("messages", [])]

    def compare(
        self, user: str, history: list[str], message: str, knob_a: float, knob_b: float
    ) -> tuple[TurnResult, TurnResult]:
        a = self.ask(self.session(user, history), message, knob_a)
        b = self.ask(self.session(user, history), message, knob_b)
        return a, b


def trace_outputs(trace: TurnTrace) -> list[Any]:
    headers, rows = candidate_table(trace)
    return [
        intent_view(trace),
        gr.Dataframe(value=tool_rows(trace), headers=TOOL_HEADERS),
        gr.Dataframe(value=rows, headers=headers),
        gr.Dataframe(value=timing_rows(trace), headers=TIMING_HEADERS),
        gr.Dataframe(value=llm_rows(trace), headers=LLM_HEADERS),
        trace.model_dump(mode="json"),
    ]


def _trace_panel() -> list[gr.components.Component]:
    intent = gr.JSON(label="Parsed intent, plan, constraints, tail knob")
    tools = gr.Dataframe(headers=TOOL_HEADERS, label="Tool calls", wrap=True)
    candidates = gr.Dataframe(label="Candidates (per-signal scores, tail flag)", wrap=True)
    timings = gr.Dataframe(headers=TIMING_HEADERS, label="Latency breakdown (ms)")
    llm = gr.Dataframe(headers=LLM_HEADERS, label="LLM calls")
    with gr.Accordion("Raw trace", open=False):
        raw = gr.JSON(label="TurnTrace")
    return [intent, tools, candidates, timings, llm, raw]


def console_blocks(rt: Runtime) -> gr.Blocks:
    console = Console(rt)
    users = rt.dataset.user_ids[:USERS_SHOWN]

    def ask(
        user: str, history_text: str, message: str, knob: float, state: dict | None
    ) -> list[Any]:
        history = parse_history(history_text)
        key = (user, tuple(history))
        try:
            if state is None or state.get("key") != key:
                state = {"key": key, "session": console.session(user, history), "messages": []}
            result = console.ask(state["session"], message, knob)
        except (UnknownItems, ValueError) as exc:
            raise gr.Error(str(exc)) from None
        state["messages"].append(message)
        saved = conversation_json(user, history, knob, state["messages"])
        return [result.answer, *trace_outputs(result.trace), saved, state]

    def replay(saved: str) -> list[Any]:
        try:
            results = console.replay(saved)
        except (json.JSONDecodeError, UnknownItems, ValueError, TypeError) as exc:
            raise gr.Error(f"cannot replay: {exc}") from None
        if not results:
            raise gr.Error("the saved conversation has no messages")
        transcript = "\n\n".join(
            f"**Turn {r.trace.turn}: {r.trace.message}**\n\n{r.answer}" for r in results
        )
        return [transcript, *trace_outputs(results[-1].trace)]

    def compare(user: str, history_text: str, message: str, a: float, b: float) -> list[Any]:
        try:
            left, right = console.compare(user, parse_history(history_text), message, a, b)
        except (UnknownItems, ValueError) as exc:
            raise gr.Error(str(exc)) from None
        lh, lrows = candidate_table(left.trace)
        rh, rrows = candidate_table(right.trace)
        return [
            left.answer,
            gr.Dataframe(value=lrows, headers=lh),
            right.answer,
            gr.Dataframe(value=rrows, headers=rh),
        ]

    with gr.Blocks(title="longtail support console") as blocks:
        gr.Markdown("## Support console\nAsk as any shopper and see how the answer was made.")
        state = gr.State(None)
        with gr.Row():
            user = gr.Dropdown(
                choices=["", *users],
                value="",
                allow_custom_value=True,
                label="Shopper: a demo shopper or an API user_id (their logged history is used)",
                elem_id="lt-user",
            )
            history = gr.Textbox(label="…or paste a history (item ids)", elem_id="lt-history")
            knob = gr.Slider(0, 1, value=0.5, step=0.05, label="Tail knob", elem_id="lt-knob")
        with gr.Tab("Ask"):
            message = gr.Textbox(label="Message", elem_id="lt-console-message")
            go = gr.Button("Ask", variant="primary", elem_id="lt-ask")
            answer = gr.Markdown(elem_id="lt-answer")
            panel = _trace_panel()
            saved = gr.Code(
                language="json", label="This conversation (copy it to replay)", elem_id="lt-saved"
            )
            go.click(
                ask,
                [user, history, message, knob, state],
                [answer, *panel, saved, state],
                api_name="ask",
            )
        with gr.Tab("Replay"):
            to_replay = gr.Code(language="json", label="Saved conversation", interactive=True)
            run = gr.Button("Replay", variant="primary")
            transcript = gr.Markdown()
            replay_panel = _trace_panel()
            run.click(replay, [to_replay], [transcript, *replay_panel], api_name="replay")
        with gr.Tab("Compare"):
            compare_message = gr.Textbox(label="Message")
            with gr.Row():
                knob_a = gr.Slider(0, 1, value=0.0, step=0.05, label="Tail knob A")
                knob_b = gr.Slider(0, 1, value=0.5, step=0.05, label="Tail knob B")
            run_compare = gr.Button("Compare", variant="primary")
            with gr.Row():
                with gr.Column():
                    answer_a = gr.Markdown()
                    table_a = gr.Dataframe(label="A: candidates", wrap=True)
                with gr.Column():
                    answer_b = gr.Markdown()
                    table_b = gr.Dataframe(label="B: candidates", wrap=True)
            run_compare.click(
                compare,
                [user, history, compare_message, knob_a, knob_b],
                [answer_a, table_a, answer_b, table_b],
                api_name="compare",
            )
        with gr.Tab("Experiments"):
            refresh = gr.Button("Refresh", variant="primary", elem_id="lt-experiments-refresh")
            rules = gr.Markdown(elem_id="lt-experiment-rules")
            results = gr.Dataframe(
                headers=EXPERIMENT_HEADERS, label="Per-variant results", wrap=True
            )
            refresh.click(
                lambda: list(reversed(console.experiments())),
                [],
                [rules, results],
                api_name="experiments",
            )
    return blocks
