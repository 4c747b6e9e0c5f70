"""The prompt studio (staff): list templates, edit, validate, preview a draft on a test
conversation against the live LLM, run the conversation test set on it, save it as a new
draft version with a note, publish a version, diff two versions, roll back, and read the
audit log of who published or rolled back what. Everything is files in `prompts/`; the audit
log is `<home>/prompt-audit.jsonl`."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from agent.agent import ShoppingAgent
from evaluation.conversations import DEFAULT_DIR, Script, evaluate, load_scripts
from runtime.container import Runtime
from serving.prompts import PromptError
from ui.prompt_versions import PromptStore

VERSION_HEADERS = ["version", "note", "description", "live"]
AUDIT_HEADERS = ["at (UTC)", "who", "action", "template", "version", "previous"]
AUDIT_FILE = "prompt-audit.jsonl"


class Studio:
    """The studio's actions, independent of Gradio so that tests can call them."""

    def __init__(self, rt: Runtime, scripts_dir: Path = DEFAULT_DIR) -> None:
        self.rt = rt
        self.store = PromptStore(rt.agent.prompts, rt.settings.home / AUDIT_FILE)
        self.scripts: dict[str, Script] = {}
        if scripts_dir.is_dir():
            self.scripts = {s.name: s for s in load_scripts(scripts_dir)}

    def draft_agent(self, name: str, text: str, scratch: Path) -> ShoppingAgent:
        """The live agent (same LLM, ranker) reading prompts from a folder with the draft."""
        self.store.validate(name, text)
        agent = copy.copy(self.rt.agent)
        agent.prompts = self.store.draft_library(name, text, scratch)
        return agent

    def preview(self, name: str, text: str, script: str) -> list[dict[str, Any]]:
        """Each turn of the test conversation with the draft: answer, LLM calls, prompts used."""
        chosen = self.scripts[script]
        with tempfile.TemporaryDirectory() as scratch:
            agent = self.draft_agent(name, text, Path(scratch))
            session = agent.new_session(user_id=chosen.user, history=list(chosen.history))
            turns = []
            for turn in chosen.turns:
                result = agent.turn(session, turn.say)
                turns.append(
                    {
                        "say": turn.say,
                        "answer": result.answer,
                        "reduced_mode": result.reduced_mode,
                        "llm_calls": [c.model_dump() for c in result.trace.llm_calls],
                    }
                )
        return turns

    def test_set(self, name: str, text: str, limit: int) -> dict[str, Any]:
        """The conversation test set's report (first `limit` scripts) with the draft."""
        scripts = list(self.scripts.values())[: max(1, int(limit))]
        with tempfile.TemporaryDirectory() as scratch:
            report, _ = evaluate(self.draft_agent(name, text, Path(scratch)), scripts)
        return report


def _who(request: gr.Request | None) -> str:
    """The logged-in staff member (Gradio's login name)."""
    return str(getattr(request, "username", None) or "")


def studio_blocks(rt: Runtime) -> gr.Blocks:
    studio = Studio(rt)
    store = studio.store

    def audit_rows() -> list[list[Any]]:
        return [[e.at, e.who, e.action, e.template, e.version, e.previous] for e in store.audit()]

    def choose(name: str) -> list[Any]:
        versions = store.versions(name)
        numbers = [v.version for v in versions]
        live = store.live(name)
        rows = [[v.version, v.note, v.description, v.version == live] for v in versions]
        latest = numbers[-1]
        pick = gr.Dropdown(choices=numbers, value=latest)
        older = gr.Dropdown(choices=numbers, value=numbers[-2] if len(numbers) > 1 else latest)
        return [
            rows,
            store.source(name, latest),
            f"Editing **{name}**, based on v{latest} (live: v{live}).",
            pick,
            older,
            gr.Dropdown(choices=numbers, value=latest),
            gr.Dropdown(choices=numbers, value=latest),
        ]

    def load(name: str, version: int) -> list[Any]:
        return [store.source(name, int(version)), f"Editing **{name}**, based on v{version}."]

    def validate(name: str, text: str) -> str:
        try:
            prompt = store.validate(name, text)
        except PromptError as exc:
            return f"❌ {exc}"
        return f"✅ valid; variables: {', '.join(prompt.variables)}"

    def save(name: str, text: str, note: str) -> list[Any]:
        try:
            version = store.save(name, text, note)
        except PromptError as exc:
            raise gr.Error(str(exc)) from None
        rows, _, _, *pickers = choose(name)
        saved = f"✅ saved draft {name}.v{version} (not live: publish it to use it)"
        return [saved, rows, *pickers]

    def publish(name: str, version: int, request: gr.Request) -> list[Any]:
        try:
            entry = store.publish(name, int(version), _who(request))
        except PromptError as exc:
            raise gr.Error(str(exc)) from None
        rows, _, _, *pickers = choose(name)
        done = f"✅ published {name}.v{entry.version} (was v{entry.previous}); now live"
        return [done, rows, audit_rows(), *pickers]

    def rollback(name: str, version: int, request: gr.Request) -> list[Any]:
        try:
            entry = store.rollback(name, int(version), _who(request))
        except PromptError as exc:
            raise gr.Error(str(exc)) from None
        rows, text, _, *pickers = choose(name)
        done = f"✅ rolled back {name} to v{entry.version} (was v{entry.previous})"
        return [done, rows, audit_rows(), text, *pickers]

    def diff(name: str, a: int, b: int) -> str:
        return store.diff(name, int(a), int(b))

    def preview(name: str, text: str, script: str) -> list[dict[str, Any]]:
        try:
            return studio.preview(name, text, script)
        except PromptError as exc:
            raise gr.Error(str(exc)) from None

    def run_tests(name: str, text: str, limit: float) -> dict[str, Any]:
        try:
            return studio.test_set(name, text, int(limit))
        except PromptError as exc:
            raise gr.Error(str(exc)) from None

    names = store.names()
    first = names[0] if names else None
    with gr.Blocks(title="longtail prompt studio") as blocks:
        gr.Markdown(
            "## Prompt studio\nSaving makes a draft version; the agent keeps using the live "
            "version until you publish. Try a draft with Preview and the test set first."
        )
        with gr.Row():
            name = gr.Dropdown(choices=names, value=first, label="Template", elem_id="lt-template")
            version = gr.Dropdown(label="Load version", elem_id="lt-version")
        versions = gr.Dataframe(headers=VERSION_HEADERS, label="Versions", wrap=True)
        status = gr.Markdown(elem_id="lt-status")
        editor = gr.Code(label="Draft", language="jinja2", interactive=True, elem_id="lt-editor")
        with gr.Row():
            check = gr.Button("Validate", elem_id="lt-validate")
            note = gr.Textbox(label="Note for the new version", elem_id="lt-note", scale=3)
            save_draft = gr.Button("Save as draft version", elem_id="lt-save")
        with gr.Row():
            to_publish = gr.Dropdown(label="Version to publish", elem_id="lt-publish-version")
            publish_it = gr.Button("Publish", variant="primary", elem_id="lt-publish")
        with gr.Tab("Preview"):
            script = gr.Dropdown(
                choices=sorted(studio.scripts),
                value=next(iter(sorted(studio.scripts)), None),
                label="Test conversation",
            )
            run_preview = gr.Button("Preview with the live LLM")
            preview_out = gr.JSON(label="Turns with the draft")
        with gr.Tab("Test set"):
            limit = gr.Number(value=5, precision=0, minimum=1, label="Scripts to run")
            run_set = gr.Button("Run the conversation test set on the draft")
            report = gr.JSON(label="Report")
        with gr.Tab("Diff and roll back"):
            with gr.Row():
                diff_a = gr.Dropdown(label="From version")
                diff_b = gr.Dropdown(label="To version")
                show_diff = gr.Button("Diff")
            diff_out = gr.Code(label="Unified diff", elem_id="lt-diff")
            with gr.Row():
                back_to = gr.Dropdown(label="Roll back to version")
                roll = gr.Button("Roll back", variant="stop")
        with gr.Tab("Audit log"):
            audit = gr.Dataframe(
                headers=AUDIT_HEADERS,
                value=audit_rows,
                label="Publish and roll back",
                elem_id="lt-audit",
            )

        chosen = [versions, editor, status, version, diff_a, diff_b, to_publish]
        name.change(choose, [name], chosen)
        blocks.load(choose, [name], chosen)
        version.input(load, [name, version], [editor, status])
        check.click(validate, [name, editor], [status], api_name="validate")
        pickers = [version, diff_a, diff_b, to_publish]
        save_draft.click(save, [name, editor, note], [status, versions, *pickers], api_name="save")
        publish_it.click(
            publish, [name, to_publish], [status, versions, audit, *pickers], api_name="publish"
        )
        show_diff.click(diff, [name, diff_a, diff_b], [diff_out], api_name="diff")
        roll.click(
            rollback,
            [name, back_to],
            [status, versions, audit, editor, *pickers],
            api_name="rollback",
        )
        run_preview.click(preview, [name, editor, script], [preview_out], api_name="preview")
        run_set.click(run_tests, [name, editor, limit], [report], api_name="test_set")
        blocks.load(lambda n: gr.Dropdown(choices=store.library.versions(n)), [name], [back_to])
    return blocks
