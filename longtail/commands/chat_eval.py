"""`longtail eval-chat`: run a conversation set through the agent and report constraint
satisfaction, grounding and explanation violations, tail share, latency and reduced-mode
turns; with `--simulate N`, chat as N shoppers of the test split instead."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from longtail.console import err, print_json, print_table


def eval_chat(
    set_name: Annotated[
        str | None,
        typer.Option(
            "--set", help="demo, office, beauty (the shipped sets) or a folder of *.yaml scripts"
        ),
    ] = None,
    conversations: Annotated[
        Path | None,
        typer.Option("--conversations", help="a folder of *.yaml scripts (same as --set DIR)"),
    ] = None,
    data: Annotated[
        Path | None, typer.Option("--data", help="dataset folder (default: the demo store)")
    ] = None,
    mode: Annotated[str, typer.Option("--mode", help="guided or tools")] = "guided",
    llm_url: Annotated[
        str | None,
        typer.Option(
            "--llm-url", help="an OpenAI-compatible server (default: llm.url, else embedded)"
        ),
    ] = None,
    no_llm: Annotated[
        bool, typer.Option("--no-llm", help="run without any LLM (reduced mode throughout)")
    ] = False,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="first N scripts only")
    ] = None,
    traces: Annotated[
        Path | None, typer.Option("--traces", help="write every turn's trace here (JSON lines)")
    ] = None,
    simulate: Annotated[
        int | None,
        typer.Option(
            "--simulate", min=1, help="chat as N seeded shoppers of the test split (needs --data)"
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="which shoppers --simulate draws")] = 0,
    json_output: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Chat through every script of a set; every suggestion is checked against the turn's
    constraints, every answer against the catalog (grounding) and every explanation against
    the evidence. With --simulate, report hit rates of simulated shoppers instead."""
    from agent.build import build_agent, open_services
    from core.errors import LongtailError
    from core.settings import load_settings
    from evaluation.conversations import (
        DEFAULT_DIR,
        ScriptError,
        catalog_problems,
        evaluate,
        load_scripts,
        set_folder,
    )
    from longtail.commands.llm import chosen_llm

    if mode not in ("guided", "tools"):
        raise LongtailError(f"--mode must be guided or tools, not {mode!r}")
    if set_name is not None and conversations is not None:
        raise LongtailError("give --set or --conversations, not both")
    logging.getLogger("longtail.agent").setLevel(logging.WARNING)
    settings = load_settings()
    if simulate is not None:
        if data is None:
            raise LongtailError("--simulate needs --data: the dataset whose test split to use")
        from longtail.commands.chat_simulate import run_simulation

        run_simulation(settings, data, simulate, seed, mode, llm_url, no_llm, json_output)
        return
    if data is None:
        from longtail.prepare import prepare_demo

        data = prepare_demo(settings)
    folder = conversations or (set_folder(set_name) if set_name else DEFAULT_DIR)
    scripts = load_scripts(folder)[:limit]
    services = open_services(settings, data)
    problems = catalog_problems(scripts, services.ranker.dataset.products)
    if problems:
        raise ScriptError(
            f"{folder} does not fit the catalog in {data} ({len(problems)} problems): "
            + "; ".join(problems[:5])
        )
    with chosen_llm(settings, no_llm=no_llm, url=llm_url) as llm_config:
        agent = build_agent(services, llm_config, settings.agent.model_copy(update={"mode": mode}))
        err.print(f"{len(scripts)} conversations, {sum(len(s.turns) for s in scripts)} turns")
        report, records = evaluate(agent, scripts)
    report["set"] = set_name or str(folder)
    report["data"] = str(data)
    report["mode"] = mode
    report["llm"] = "none" if llm_config is None else llm_config.base_url
    report["token_budget"] = {
        "intent_max_tokens": agent.config.intent_max_tokens,
        "answer_max_tokens": agent.config.answer_max_tokens,
    }
    if traces is not None:
        traces.parent.mkdir(parents=True, exist_ok=True)
        with traces.open("w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record.trace) + "\n")
    if json_output:
        print_json(report)
        return
    keys = [
        "turns",
        "constraint_satisfaction",
        "grounding_violations",
        "explanation_violations",
        "tail_share",
        "latency_p50_s",
        "latency_p95_s",
        "reduced_mode_turns",
    ]
    print_table(
        f"eval-chat {report['set']} ({mode}, {report['llm']})",
        ["metric", "value"],
        [(k, report[k]) for k in keys],
    )
    for failure in report["failures"]:
        err.print(
            f"[yellow]{failure['script']} turn {failure['turn']}[/yellow]: {failure['problems'][0]}"
        )
