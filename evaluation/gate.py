"""The promotion gate: a new model version serves only if it is not worse than the one
serving now, by more than `feedback.gate_margin`, on recall@10 and tail_recall@10.

Two slices: the dataset's validation pairs (each user's last interaction, given the rest)
and the recent events held back from training (each event shopper's last logged event,
given what came before). The events slice is judged only with at least
`feedback.gate_min_queries` queries; the report says so when it is not.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catalog.dataset import Dataset, tail_mask
from evaluation.metrics import recall, tail_recall
from evaluation.runner import top_k
from longtail.settings import FeedbackSettings
from ranking.artifacts import serving_training_data
from ranking.scorer import Scorer

K = 10
METRICS = ("recall@10", "tail_recall@10")


def slice_metrics(
    scorer: Scorer, queries: list[tuple[np.ndarray, int]], tail: np.ndarray
) -> dict[str, float]:
    lists = top_k(scorer, [history for history, _ in queries], K)
    targets = [np.array([target]) for _, target in queries]
    return {
        "recall@10": recall(lists, targets),
        "tail_recall@10": tail_recall(lists, targets, tail),
    }


def judge(
    candidate: Scorer,
    serving: Scorer | None,
    dataset: Dataset,
    holdout: list[tuple[np.ndarray, int]],
    feedback: FeedbackSettings,
) -> dict[str, Any]:
    """{"promote": bool, "reasons": [...], "slices": {name: {candidate, serving, queries}}}."""
    tail = tail_mask(dataset.item_popularity())
    slices = {"validation": serving_training_data(dataset).validation, "recent_events": holdout}
    report: dict[str, Any] = {"margin": feedback.gate_margin, "slices": {}, "reasons": []}
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
        entry["candidate"] = slice_metrics(candidate, queries, tail)
        if serving is None:
            continue
        entry["serving"] = slice_metrics(serving, queries, tail)
        for metric in METRICS:
            drop = entry["serving"][metric] - entry["candidate"][metric]
            if drop > feedback.gate_margin:
                report["reasons"].append(
                    f"{name} {metric} fell {drop:.4f} ({entry['serving'][metric]:.4f} -> "
                    f"{entry['candidate'][metric]:.4f}), more than the margin "
                    f"{feedback.gate_margin:g}"
                )
    if serving is None:
        report["reasons_to_promote"] = "no version serves yet"
    report["promote"] = not report["reasons"]
    return report
