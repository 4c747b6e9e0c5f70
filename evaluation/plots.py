"""PNG plots of an evaluation, so the long-tail effect is visible without reading numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from evaluation.runner import Evaluation
from ranking.metrics import KS

RECALL_PLOT = "recall_by_model.png"
EXPOSURE_PLOT = "exposure_by_popularity_decile.png"
TRADEOFF_PLOT = "tail_knob_tradeoff.png"


def plot_recall(result: Evaluation, path: Path) -> None:
    """recall@K and tail_recall@K side by side, one group of bars per model."""
    names = [m.name for m in result.models]
    x = np.arange(len(names))
    width = 0.8 / len(KS)
    fig = _figure((11, 4))
    axes = fig.subplots(1, 2, sharey=True)
    for ax, metric in zip(axes, ("recall", "tail_recall"), strict=True):
        for i, k in enumerate(KS):
            values = [m.metrics[f"{metric}@{k}"] for m in result.models]
            bars = ax.bar(x + (i - (len(KS) - 1) / 2) * width, values, width, label=f"K={k}")
            ax.bar_label(bars, fmt="%.3f", fontsize=7)
        ax.set_xticks(x, names)
        ax.set_title(f"{metric}@K")
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("share of test targets found")
    axes[0].legend()
    fig.suptitle(f"{result.dataset}: accuracy, all targets vs tail targets ({result.protocol})")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def plot_exposure(result: Evaluation, path: Path) -> None:
    """Share of top-10 slots per training-popularity decile: the long-tail curve per model."""
    deciles = np.arange(1, len(result.training_exposure) + 1)
    fig = _figure((8, 4.5))
    ax = fig.subplots()
    ax.plot(deciles, result.training_exposure, "k--", label="training interactions")
    for m in result.models:
        ax.plot(deciles, m.exposure, marker="o", label=m.name)
    ax.set_xticks(deciles)
    ax.set_xlabel("item popularity decile (1 = the most popular 10% of items)")
    ax.set_ylabel(f"share of top-{min(KS)} recommendations")
    ax.set_yscale("symlog", linthresh=0.01)  # linear near 0, so empty deciles still show
    ax.set_ylim(0, 1.1)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(f"{result.dataset}: who gets shown (deciles 3-10 are the tail)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def plot_tradeoff(result: Evaluation, path: Path) -> None:
    """recall@10 against tail_recall@10 and tail_user_coverage@10 along the tail knob."""
    fig = _figure((11, 4.5))
    axes = fig.subplots(1, 2, sharey=True)
    for ax, metric in zip(axes, ("tail_recall@10", "tail_user_coverage@10"), strict=True):
        xs = [p.metrics[metric] for p in result.sweep]
        ys = [p.metrics["recall@10"] for p in result.sweep]
        ax.plot(xs, ys, "o-", color="tab:red", label="hybrid, tail knob 0 → 1")
        for p, x, y in zip(result.sweep, xs, ys, strict=True):
            ax.annotate(f"{p.tail_knob:g}", (x, y), textcoords="offset points", xytext=(4, 4))
        for m in result.models:
            if m.baseline and m.metrics["recall@10"] > 0.01:
                ax.plot(m.metrics[metric], m.metrics["recall@10"], "s", label=m.name)
        ax.set_xlabel(metric)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("recall@10")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{result.dataset}: the accuracy / long-tail trade-off of the tail knob")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def write_plots(result: Evaluation, folder: Path) -> dict[str, str]:
    """Write every plot into `folder`; returns title → file name, for the report."""
    plot_recall(result, folder / RECALL_PLOT)
    plot_exposure(result, folder / EXPOSURE_PLOT)
    plots = {"recall@K and tail_recall@K by model": RECALL_PLOT, "item exposure": EXPOSURE_PLOT}
    if result.sweep:
        plot_tradeoff(result, folder / TRADEOFF_PLOT)
        plots["accuracy / long-tail trade-off"] = TRADEOFF_PLOT
    return plots


def _figure(size: tuple[float, float]) -> Figure:
    """A figure on the Agg canvas: files only, no pyplot state, no display needed."""
    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    return fig
