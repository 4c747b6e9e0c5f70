"""metrics.json and report.md from an evaluation result."""

from __future__ import annotations

import json

from evaluation.report import (
    acceptance_rows,
    best_baseline,
    metrics_document,
    relative_change,
    render_report,
)
from evaluation.runner import Evaluation, ModelResult
from ranking.tuning import Candidate


def model(name: str, recall: float, baseline: bool = True) -> ModelResult:
    return ModelResult(
        name=name,
        params={"k": 1},
        metrics={"recall@10": recall, "gini@10": 0.5},
        seconds=1.25,
        tuning=[Candidate({"k": 1}, 0.2), Candidate({"k": 2}, 0.1)],
        exposure=[0.5, 0.5],
        baseline=baseline,
    )


RESULT = Evaluation(
    dataset="shop",
    protocol="loo",
    items=100,
    test_queries=40,
    tail_targets=12,
    seed=7,
    users=None,
    training_exposure=[0.7, 0.3],
    models=[model("a", 0.1), model("b", 0.2), model("new", 0.3, baseline=False)],
)


def test_relative_change() -> None:
    assert relative_change(0.3, 0.2) == "+50.0%"
    assert relative_change(0.1, 0.2) == "-50.0%"
    assert relative_change(0.1, 0.0) == "n/a"


def test_best_baseline_ignores_new_models() -> None:
    assert best_baseline(RESULT).name == "b"  # type: ignore[union-attr]


def test_metrics_document_is_json_with_every_model() -> None:
    document = json.loads(json.dumps(metrics_document(RESULT)))
    assert (document["dataset"], document["protocol"]) == ("shop", "loo")
    assert document["models"]["new"] == {"recall@10": 0.3, "gini@10": 0.5, "seconds": 1.2}
    assert document["tuning"]["a"][0] == {"params": {"k": 1}, "ndcg@10": 0.2}


def test_report_has_the_table_the_changes_and_the_tuning() -> None:
    report = render_report(RESULT, {"recall": "recall.png"})
    assert "| metric | a | b | new |" in report
    assert "| recall@10 | 0.1000 | 0.2000 | 0.3000 |" in report
    assert "best baseline (b, by recall@10)" in report
    assert "| recall@10 | -50.0% | +50.0% |" in report
    assert "k=1: ndcg@10 0.2000 ← chosen" in report
    assert "![recall](recall.png)" in report


def knob_zero_result(dataset: str) -> Evaluation:
    models = [model("itemknn", 0.10), model("intent", 0.13, baseline=False)]
    models.append(model("hybrid-no-tail-rerank", 0.15, baseline=False))
    return Evaluation(
        dataset=dataset,
        protocol="loo",
        items=100,
        test_queries=40,
        tail_targets=12,
        seed=7,
        users=None,
        training_exposure=[0.7, 0.3],
        models=models,
    )


def test_office_knob_zero_bar_is_the_reference_fusion() -> None:
    office = acceptance_rows(knob_zero_result("amazon-office-2014"))
    assert [(r["bar"], r["met"]) for r in office] == [(round(1.05 * 0.1482, 6), False)]
    assert "reference fusion" in office[0]["check"]
    other = acceptance_rows(knob_zero_result("amazon-beauty-2014"))
    assert [(r["bar"], r["met"]) for r in other] == [(round(1.10 * 0.13, 6), True)]
    assert "best single model (intent)" in other[0]["check"]
