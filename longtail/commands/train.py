"""`longtail train`: fit the serving models (intent encoder, CF, hybrid ranker) and save
them with their config and data fingerprint."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from longtail.console import print_json, print_table

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
        _message_weights(settings, data, json_output)
        return
    dataset = load_dataset(data)
    if with_events:
        _train_version(settings, dataset, names, max_epochs, promote, json_output)
        return
    results = train_models(settings, dataset, names, max_epochs)
    if "hybrid" in names:
        results["hybrid"]["message_weights"] = _message_weights_if_ingested(settings, data)
    summary = {"dataset": dataset.name, "fingerprint": dataset.fingerprint(), "models": results}
    if json_output:
        print_json(summary)
    else:
        rows = [(name, r["seconds"], r.get("epochs", ""), r["path"]) for name, r in results.items()]
        print_table(f"trained on {dataset.name}", ["model", "seconds", "epochs", "saved to"], rows)


def _message_weights(settings: Settings, data: Path, json_output: bool) -> None:
    from evaluation.kinds import kind_messages
    from ranking.message_combiner import learn_message_weights

    report = learn_message_weights(settings, data, kind_messages)
    if json_output:
        print_json(report)
        return
    hits = report["check_hit@10"]
    print(
        f"message weights: {report['chosen']} (held-back validation hit@10: hand-set "
        f"{hits['hand_set']}, learned {hits['learned']}; {report['requests']} requests)"
    )


def _message_weights_if_ingested(settings: Settings, data: Path) -> dict[str, Any]:
    """The message weights' report, or why they stay hand-set (no store to search yet)."""
    from evaluation.kinds import kind_messages
    from longtail.console import err
    from ranking.message_combiner import learn_message_weights
    from retrieval.errors import StoreError

    try:
        return learn_message_weights(settings, data, kind_messages)
    except StoreError as exc:
        err.print(
            f"message weights stay hand-set: {exc}; then run "
            f"`longtail train --data {data} --message-weights-only`"
        )
        return {"chosen": "hand_set", "reason": "no ingested store"}


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
