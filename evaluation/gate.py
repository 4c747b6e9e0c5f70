"""The promotion gate: a new model version serves only if it is not worse than the one
serving now, by more than `feedback.gate_margin`, on recall@10 and tail_recall@10.

A version is refused when, on a judged slice, a metric's drop is over the margin and is not
sampling noise: the paired 95% interval of the per-query drop lies above zero. On a small
slice a one-query flip moves tail_recall by several points, so a bare point estimate would
refuse good versions at random; a damaged one drops far and clearly.

Two slices, both held back from every part of the new version (ranking.event_training):
each dataset user's newest interaction given the rest, and each event shopper's newest logged
event given what came before. Not the validation pairs: the hybrid's combiner is fitted on
them, and there it re-fits around damaged components, so the damage looks smaller than on
unseen targets (`python -m bench.gate_check`, docs/experiments.md). The events
slice is judged only with at least `feedback.gate_min_queries` queries; the report says so
when it is not.

Both versions are judged at the serving version's tail knob. Each version chooses its own
knob on its validation pairs, and the serving one chose it on the very targets of the dataset
slice; judged each at its own knob, a good version was refused for a knob 0.2 lower (tail
recall 0.557 -> 0.489), while at one knob the two were within noise (0.496 -> 0.481). The
knob is an exposure policy: an experiment arm changes it, not a retrain.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from catalog.dataset import Dataset, tail_mask
from core.settings import FeedbackSettings
from evaluation.experiment_stats import mean_interval
from ranking.scorer import Scorer
from ranking.tuning import top_k

K = 10
METRICS = ("recall@10", "tail_recall@10")


def query_hits(
    scorer: Scorer, queries: list[tuple[np.ndarray, int]], tail: np.ndarray
) -> dict[str, np.ndarray]:
    """Per query, 1.0 where the target is in the top 10: all queries, and tail targets only
    (their means are recall@10 and tail_recall@10, as ranking.metrics computes them)."""
    lists = top_k(scorer, [history for history, _ in queries], K)
    targets = np.array([target for _, target in queries])
    hits = (lists == targets[:, None]).any(axis=1).astype(np.float64)
    return {"recall@10": hits, "tail_recall@10": hits[tail[targets]]}


@contextmanager
def serving_knob(candidate: Scorer, serving: Scorer | None) -> Iterator[None]:
    """The candidate ranks at the serving version's tail knob for the judgement (scorers
    without a knob are left as they are)."""
    own = getattr(candidate, "tail_knob", None)
    knob = getattr(serving, "tail_knob", None)
    if own is None or knob is None:
        yield
        return
    candidate.tail_knob = knob
    try:
        yield
    finally:
        candidate.tail_knob = own


def judge(
    candidate: Scorer,
    serving: Scorer | None,
    dataset: Dataset,
    slices: dict[str, list[tuple[np.ndarray, int]]],
    feedback: FeedbackSettings,
) -> dict[str, Any]:
    """{"promote": bool, "reasons": [...], "slices": {name: {candidate, serving, queries}}};
    `slices` maps "recent_dataset" and "recent_events" to (history, target) queries."""
    tail = tail_mask(dataset.item_popularity())
    report: dict[str, Any] = {"margin": feedback.gate_margin, "slices": {}, "reasons": []}
    if getattr(serving, "tail_knob", None) is not None:
        own = getattr(candidate, "tail_knob", None)
        report["tail_knob"] = {"judged_at": serving.tail_knob, "candidate_own": own}
    with serving_knob(candidate, serving):
        _judge_slices(candidate, serving, slices, tail, feedback, report)
    if serving is None:
        report["reasons_to_promote"] = "no version serves yet"
    report["promote"] = not report["reasons"]
    return report


def _judge_slices(
    candidate: Scorer,
    serving: Scorer | None,
    slices: dict[str, list[tuple[np.ndarray, int]]],
    tail: np.ndarray,
    feedback: FeedbackSettings,
    report: dict[str, Any],
) -> None:
    for name, queries in slices.items():
        entry: dict[str, Any] = {"queries": len(queries)}
        report["slices"][name] = entry
        if name == "recent_events" and len(queries) < feedback.gate_min_queries:
            entry["judged"] = False
            entry["why"] = f"{len(queries)} queries, under gate_min_queries"
            continue
        if not queries:
            entry["judged"] = False
            entry["why"] = "no queries"
            continue
        entry["judged"] = True
        new = query_hits(candidate, queries, tail)
        entry["candidate"] = {m: float(new[m].mean()) if len(new[m]) else 0.0 for m in METRICS}
        if serving is None:
            continue
        old = query_hits(serving, queries, tail)
        entry["serving"] = {m: float(old[m].mean()) if len(old[m]) else 0.0 for m in METRICS}
        entry["drop"] = {}
        for metric in METRICS:
            drop = mean_interval((old[metric] - new[metric]).tolist())
            entry["drop"][metric] = {k: drop[k] for k in ("mean", "low", "high")}
            if drop["mean"] > feedback.gate_margin and drop["low"] > 0:
                report["reasons"].append(
                    f"{name} {metric} fell {drop['mean']:.4f} ({entry['serving'][metric]:.4f} "
                    f"-> {entry['candidate'][metric]:.4f}; 95% interval {drop['low']:.4f} to "
                    f"{drop['high']:.4f}), more than the margin {feedback.gate_margin:g}"
                )
