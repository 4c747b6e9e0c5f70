"""`longtail train`: fit the serving models (intent encoder, CF, hybrid ranker) and save
them with their config and data fingerprint."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from longtail.console import err, print_json, print_table

NO_STORE = "no ingested store"
LLM_TIMEOUT_S = 120.0  # per LLM call while training (the agent's turns allow 30 s)

if TYPE_CHECKING:
    from catalog.dataset import Dataset
    from core.settings import Settings


def train(
    data: Annotated[
        Path | None, typer.Option("--data", help="dataset folder (default: the demo store)")
    ] = None,
    models: Annotated[
        str, typer.Option("--models", help="comma-separated models to train")
    ] = "intent,cf,hybrid",
    max_epochs: Annotated[
        int | None, typer.Option("--max-epochs", min=1, help="cap on intent training epochs")
    ] = None,
    with_events: Annotated[
        bool,
        typer.Option(
            "--with-events",
            help="also learn from the event log; saves a new model version and promotes it "
            "only if the promotion gate passes",
        ),
    ] = False,
    promote: Annotated[
        bool, typer.Option("--promote/--no-promote", help="with --with-events: promote on pass")
    ] = True,
    message_weights_only: Annotated[
        bool,
        typer.Option(
            "--message-weights-only",
            help="only refit the trained hybrid ranker's weights for requests with a chat "
            "message (validation requests that name their target's kind; needs ingest)",
        ),
    ] = False,
    llm_requests: Annotated[
        int,
        typer.Option(
            "--llm-requests",
            min=0,
            help="learn the ranker's weight for LLM-written candidates on this many validation "
            "requests whose needs and kinds the LLM writes (0: it stays hand-set)",
        ),
    ] = 0,
    llm_url: Annotated[
        str | None,
        typer.Option("--llm-url", help="with --llm-requests: this server, not the configured LLM"),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Train models on all interactions (each user's last one held out for early stopping).

    With the hybrid ranker and an ingested store, its weights for chat messages are then
    learned on those held-out interactions too (ranking/message_combiner.py)."""
    from catalog.loading import load_dataset
    from core.settings import load_settings
    from longtail.prepare import train_models
    from ranking import registry

    settings = load_settings()
    if data is None:
        from longtail.prepare import prepare_demo

        data = prepare_demo(settings)
    names = [m.strip() for m in models.split(",") if m.strip()]
    for name in names:
        registry.get(name)  # unknown names fail before any work
    if message_weights_only:
        report = _message_weights(settings, data)
        if "hybrid" in names:
            report["llm_weights"] = _llm_weights(settings, data, llm_requests, llm_url, kept=True)
        if json_output:
            print_json(report)
        return
    dataset = load_dataset(data)
    if with_events:
        _train_version(settings, dataset, names, max_epochs, promote, json_output)
        return
    results = train_models(settings, dataset, names, max_epochs)
    if "hybrid" in names:
        weights = _message_weights_if_ingested(settings, data)
        results["hybrid"]["message_weights"] = weights
        if weights.get("reason") != NO_STORE:
            results["hybrid"]["llm_weights"] = _llm_weights(settings, data, llm_requests, llm_url)
    summary = {"dataset": dataset.name, "fingerprint": dataset.fingerprint(), "models": results}
    if json_output:
        print_json(summary)
    else:
        rows = [(name, r["seconds"], r.get("epochs", ""), r["path"]) for name, r in results.items()]
        print_table(f"trained on {dataset.name}", ["model", "seconds", "epochs", "saved to"], rows)


def _message_weights(settings: Settings, data: Path) -> dict[str, Any]:
    from evaluation.kinds import kind_messages
    from ranking.message_combiner import learn_message_weights

    report = learn_message_weights(settings, data, kind_messages)
    hits = report["check_hit@10"]
    err.print(
        f"message weights: {report['chosen']} (held-back validation hit@10: hand-set "
        f"{hits['hand_set']}, learned {hits['learned']}; {report['requests']} requests); "
        f"their tail knob: {report['tail_knob']['chosen']}"
    )
    return report


def _message_weights_if_ingested(settings: Settings, data: Path) -> dict[str, Any]:
    """The message weights' report, or why they stay hand-set (no store to search yet)."""
    from retrieval.errors import StoreError

    try:
        return _message_weights(settings, data)
    except StoreError as exc:
        err.print(
            f"message weights stay hand-set: {exc}; then run "
            f"`longtail train --data {data} --message-weights-only`"
        )
        return {"chosen": "hand_set", "reason": NO_STORE}


def _llm_weights(
    settings: Settings, data: Path, n: int, url: str | None, kept: bool = False
) -> dict[str, Any]:
    """The LLM-candidate weights' report: learned on `n` validation requests with LLM texts
    (ranking/llm_weights.py, agent/need_texts.py), or why they are not (`kept`: the saved
    model keeps what an earlier run learned; else they are the hand-set ones)."""
    before = "stay as the saved model has them" if kept else "stay hand-set"
    if n == 0:
        reason = f"no --llm-requests: the weights of LLM-written candidates {before}"
        err.print(reason)
        return {"chosen": "unchanged" if kept else "hand_set", "reason": reason}
    from tqdm import tqdm

    from agent.build import agent_chat_model
    from agent.llm_steps import LLMStepError
    from agent.need_texts import NeedWriter
    from agent.vocabulary import Vocabulary
    from evaluation.kinds import product_kinds
    from longtail.commands.llm import chosen_llm
    from ranking.artifacts import artifacts_dir
    from ranking.hybrid_ranker import HybridRanker
    from ranking.llm_weights import learn_llm_weights
    from retrieval.layout import StoreLayout
    from serving.client import LLMError

    ranker = HybridRanker.open(settings, data)
    dataset = ranker.dataset
    folder = StoreLayout.for_data(settings, data).folder
    vocabulary = Vocabulary.load(folder, dataset.fingerprint())
    vocabulary = vocabulary or Vocabulary.from_products(dataset.products)
    try:
        with chosen_llm(settings, url=url) as config:
            assert config is not None
            cache = settings.home / "cache" / "llm_texts" / f"{dataset.name}-{config.model}.json"
            writer = NeedWriter(agent_chat_model(config, LLM_TIMEOUT_S), vocabulary, cache)
            report = learn_llm_weights(
                ranker,
                product_kinds(dataset.products),
                lambda kinds: writer(kinds, lambda xs: tqdm(xs, desc="LLM: needs", unit="kind")),
                n,
                artifacts_dir(settings.home, dataset.name) / "hybrid",
            )
    except (LLMStepError, LLMError) as exc:
        reason = f"the LLM failed ({exc}): the weights of LLM-written candidates {before}"
        err.print(reason)
        return {"chosen": "unchanged" if kept else "hand_set", "reason": reason}
    report.update(
        llm=config.model, llm_calls=writer.llm_calls, passed_over=dict(writer.passed_over)
    )
    hits = report["check_hit@10"]
    err.print(
        f"LLM-candidate weights: {report['chosen']} (held-back validation hit@10: hand-set "
        f"{hits['hand_set']}, learned {hits['learned']}; {report['requests']} requests)"
    )
    return report


def _train_version(
    settings: Settings,
    dataset: Dataset,
    names: list[str],
    max_epochs: int | None,
    promote: bool,
    json_output: bool,
) -> None:
    from longtail.feedback import train_version

    report = train_version(settings, dataset, names, max_epochs, promote=promote)
    if json_output:
        print_json(report)
        return
    gate = report["gate"]
    rows = []
    for model, judged in gate["models"].items():
        for name, entry in judged["slices"].items():
            for metric in ("recall@10", "tail_recall@10"):
                new = entry.get("candidate", {}).get(metric)
                old = entry.get("serving", {}).get(metric)
                rows.append((model, name, metric, _fmt(old), _fmt(new), entry.get("queries", 0)))
    title = f"version {report['version']} ({report['events_used']} logged events)"
    print_table(title, ["model", "slice", "metric", "serving", "new", "queries"], rows)
    verdict = "promoted" if report["promoted"] else "not promoted"
    why = "; ".join(gate["reasons"]) or ("gate passed" if gate["promote"] else "")
    if gate["promote"] and not report["promoted"]:
        why = "gate passed; --no-promote"
    print(f"{verdict}: {why}")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"
