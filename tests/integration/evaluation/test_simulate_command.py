"""`longtail eval-chat --simulate` keeps its JSON contract: it names the ingest a held-out
copy needs, then, ingested and trained (CLI runs, minutes; training also learns the hybrid
ranker's message weights on validation), reports every condition."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from catalog.demo import DemoConfig, write_demo
from catalog.loading import load_dataset
from ranking.artifacts import load_trained
from ranking.hybrid import HybridScorer

pytestmark = pytest.mark.slow


def longtail(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "longtail", *args], capture_output=True, text=True, timeout=900
    )


def test_simulate_json_contract(tmp_path: Path, isolated_home: Path) -> None:
    data = tmp_path / "shop"
    write_demo(data, DemoConfig(items=300, users=100))
    first = longtail("eval-chat", "--simulate", "6", "--data", str(data), "--no-llm", "--json")
    assert first.returncode == 2 and "Traceback" not in first.stderr
    heldout = isolated_home / "simulate" / "shop-heldout"
    assert f"longtail ingest --data {heldout}" in " ".join(first.stderr.split())
    assert longtail("ingest", "--data", str(heldout)).returncode == 0
    trained = longtail(
        "train", "--data", str(heldout), "--models", "hybrid", "--max-epochs", "2", "--json"
    )
    assert trained.returncode == 0, trained.stderr
    _check_message_weights(json.loads(trained.stdout)["models"]["hybrid"]["message_weights"])
    model = load_trained(isolated_home, load_dataset(heldout), "hybrid")
    assert isinstance(model, HybridScorer)
    learned = json.loads(trained.stdout)["models"]["hybrid"]["message_weights"]["chosen"]
    assert (model.message_combiner is not None) == (learned == "learned")
    run = longtail("eval-chat", "--simulate", "6", "--data", str(data), "--no-llm", "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["shoppers"] == 6 and report["llm"] == "none" and report["protocol"] == "loo"
    conditions = report["conditions"]
    assert set(conditions) == {"history_and_message", "message_only", "history_only"}
    for result in conditions.values():
        assert {"hit@3", "hit@10", "tail_hit@3", "tail_hit@10", "latency_p50_s"} <= set(result)
        assert 0 <= result["hit@3"] <= result["hit@10"] <= 1 and result["shoppers"] == 6
    assert conditions["history_and_message"]["reduced_mode_turns"] == 6
    assert set(report["references"]) == {"ranker_history_and_message", "ranker_message_only"}
    assert set(report["hit@10_ratio"]) == {"vs_message_only", "vs_history_only"}
    assert all(e["message"].startswith("I'm looking for ") for e in report["examples"])


def _check_message_weights(report: dict[str, Any]) -> None:
    """`longtail train` learned the message weights on validation requests, kept them only
    when they beat the hand-set ones on the held-back part."""
    assert report["requests"] > 0 and 0.0 < report["target_among_candidates"] <= 1.0
    hits = report["check_hit@10"]
    assert report["chosen"] == ("learned" if hits["learned"] > hits["hand_set"] else "hand_set")
