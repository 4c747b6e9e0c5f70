"""PNG plots of an evaluation, so the long-tail effect is visible without reading numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from evaluation.metrics import KS
from evaluation.runner import Evaluation

RECALL_PLOT = "recall_by_model.png"
EXPOSURE_PLOT = "exposure_by_popularity_decile.png"


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


def write_plots(result: Evaluation, folder: Path) -> dict[str, str]:
    """Write every plot into `folder`; returns title → file name, for the report."""
    plot_recall(result, folder / RECALL_PLOT)
    plot_exposure(result, folder / EXPOSURE_PLOT)
    return {"recall@K and tail_recall@K by model": RECALL_PLOT, "item exposure": EXPOSURE_PLOT}


def _figure(size: tuple[float, float]) -> Figure:
    """A figure on the Agg canvas: files only, no pyplot state, no display needed."""
    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    return fig
