"""`longtail eval` as a user runs it, on a small generated store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.demo import write_demo
from tests.support.cli import longtail
from tests.unit.ranking.fakes import SMALL_DEMO

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("store")
    write_demo(folder, SMALL_DEMO)
    return folder


def test_eval_writes_metrics_report_and_plots(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = longtail(
        "eval", "--data", str(store), "--models", "pop,itemknn", "--out", str(out), "--json"
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed == json.loads((out / "metrics.json").read_text())
    assert (printed["dataset"], printed["protocol"], printed["refit"]) == (store.name, "loo", True)
    assert set(printed["models"]) == {"pop", "itemknn"}
    assert {"recall@10", "tail_user_coverage@20", "gini@20", "seconds"} <= set(
        printed["models"]["itemknn"]
    )
    report = (out / "report.md").read_text()
    assert "| recall@10 |" in report and "best baseline" in report
    for plot in ("recall_by_model.png", "exposure_by_popularity_decile.png"):
        assert (out / plot).read_bytes().startswith(PNG_MAGIC)
        assert f"({plot})" in report


def test_eval_temporal_on_a_user_sample(store: Path, tmp_path: Path) -> None:
    result = longtail(
        "eval", "--data", str(store), "--models", "pop", "--out", str(tmp_path),
        "--protocol", "temporal", "--users", "20", "--seed", "3", "--no-refit", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert (metrics["protocol"], metrics["users"], metrics["seed"]) == ("temporal", 20, 3)
    assert metrics["refit"] is False
    assert "no refit" in (tmp_path / "report.md").read_text()
    assert 0 < metrics["test_queries"] <= 20  # few demo shoppers are active across the cut


def test_bad_model_or_protocol_is_one_line_and_exit_2(store: Path, tmp_path: Path) -> None:
    for args, message in (
        (("--models", "pop,sasrec"), "unknown model 'sasrec'; known models: pop, itemknn"),
        (("--protocol", "weekly"), "unknown protocol 'weekly'"),
    ):
        result = longtail("eval", "--data", str(store), "--out", str(tmp_path), *args)
        assert result.returncode == 2
        assert message in result.stderr and "Traceback" not in result.stderr
