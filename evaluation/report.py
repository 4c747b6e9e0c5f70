"""An evaluation as files: metrics.json for tools, report.md for people."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from evaluation.runner import TUNING_METRIC, Evaluation, ModelResult

HEADLINE = "recall@10"  # picks the best baseline that every model is compared against


def metrics_document(result: Evaluation) -> dict[str, Any]:
    """The metrics.json payload: every metric plus wall seconds per model, and the context."""
    return {
        "dataset": result.dataset,
        "protocol": result.protocol,
        "items": result.items,
        "test_queries": result.test_queries,
        "tail_targets": result.tail_targets,
        "users": result.users,
        "seed": result.seed,
        "models": {m.name: _rounded(m) for m in result.models},
        "params": {m.name: m.params for m in result.models},
        "tuning": {
            m.name: [{"params": c.params, TUNING_METRIC: round(c.validation, 6)} for c in m.tuning]
            for m in result.models
        },
        "exposure_by_popularity_decile": {
            "training interactions": result.training_exposure,
            **{m.name: m.exposure for m in result.models},
        },
    }


def write_metrics(result: Evaluation, path: Path) -> None:
    path.write_text(json.dumps(metrics_document(result), indent=2) + "\n")


def best_baseline(result: Evaluation) -> ModelResult | None:
    """The baseline with the highest HEADLINE metric, or None when no baseline was run."""
    baselines = [m for m in result.models if m.baseline]
    return max(baselines, key=lambda m: m.metrics[HEADLINE]) if baselines else None


def relative_change(value: float, reference: float) -> str:
    """'+12.3%' style change against a reference; 'n/a' when the reference is 0."""
    if reference == 0 or math.isnan(reference):
        return "n/a"
    return f"{100 * (value - reference) / reference:+.1f}%"


def render_report(result: Evaluation, plots: dict[str, str]) -> str:
    """report.md: context, all metrics, changes against the best baseline, tuning, plots."""
    names = [m.name for m in result.models]
    metric_names = list(result.models[0].metrics) if result.models else []
    scope = f"{result.users} sampled test users" if result.users else "all test users"
    lines = [
        f"# Evaluation: {result.dataset}",
        "",
        f"Protocol `{result.protocol}`, full ranking over {result.items:,} items with each "
        f"user's history excluded; {result.test_queries:,} test queries ({scope}, seed "
        f"{result.seed}), {result.tail_targets:,} tail targets (tail = the 80% least popular "
        "items by training count). Hyper-parameters were chosen on the validation split only "
        f"(by {TUNING_METRIC}).",
        "",
        "## Metrics",
        "",
        _table(
            ["metric", *names],
            [[k, *(f"{m.metrics[k]:.4f}" for m in result.models)] for k in metric_names]
            + [["seconds", *(f"{m.seconds:.1f}" for m in result.models)]],
        ),
    ]
    reference = best_baseline(result)
    if reference is not None:
        others = [m for m in result.models if m is not reference]
        lines += [
            "",
            f"## Change against the best baseline ({reference.name}, by {HEADLINE})",
            "",
            "Higher is better for every metric except gini (lower = exposure spread more evenly).",
            "",
            _table(
                ["metric", *(m.name for m in others)],
                [
                    [k, *(relative_change(m.metrics[k], reference.metrics[k]) for m in others)]
                    for k in metric_names
                ],
            ),
        ]
    lines += ["", "## Tuning (validation split)", ""]
    for m in result.models:
        chosen = _params(m.params) or "no hyper-parameters"
        lines.append(f"- **{m.name}**: {chosen}")
        for candidate in m.tuning:
            mark = " ← chosen" if candidate.params == m.params else ""
            lines.append(
                f"  - {_params(candidate.params)}: {TUNING_METRIC} {candidate.validation:.4f}{mark}"
            )
    if plots:
        lines += ["", "## Plots", ""]
        lines += [f"![{title}]({file})" for title, file in plots.items()]
    return "\n".join(lines) + "\n"


def _rounded(model: ModelResult) -> dict[str, float]:
    metrics = {k: round(v, 6) for k, v in model.metrics.items()}
    return {**metrics, "seconds": round(model.seconds, 1)}


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
