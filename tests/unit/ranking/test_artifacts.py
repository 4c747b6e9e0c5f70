"""`longtail train` saves models with their data fingerprint; other data is refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from catalog.demo import DemoConfig, write_demo
from catalog.loading import load_dataset
from ranking.artifacts import load_trained, serving_training_data
from ranking.cf import CFScorer
from ranking.scorer import ScorerError


def test_serving_data_holds_out_each_users_last_item() -> None:
    from catalog.demo import generate_demo

    dataset = generate_demo(DemoConfig(items=150, users=60))
    data = serving_training_data(dataset)
    for sequence, (history, target) in zip(dataset.sequences(), data.validation, strict=False):
        assert target == sequence[-1]
        assert len(history) == len(sequence) - 1
    assert data.fingerprint == dataset.fingerprint()


def test_train_saves_models_that_load_only_for_their_catalog(
    tmp_path: Path, isolated_home: Path
) -> None:
    folder = tmp_path / "shop"
    write_demo(folder, DemoConfig(items=150, users=80))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "longtail",
            "train",
            "--data",
            str(folder),
            "--models",
            "cf,intent,hybrid",
            "--max-epochs",
            "2",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary["models"]) == {"cf", "intent", "hybrid"}
    assert summary["models"]["intent"]["epochs"] == 2

    dataset = load_dataset(folder)
    cf = load_trained(isolated_home, dataset, "cf")
    assert isinstance(cf, CFScorer)
    popular = int(np.argmax(dataset.item_popularity()))
    neighbours = cf.similar_items(popular, k=5)
    assert neighbours and all(n.item != popular for n in neighbours)
    intent = load_trained(isolated_home, dataset, "intent")
    assert intent.score([dataset.sequences()[0]]).shape == (1, dataset.n_items)
    hybrid = load_trained(isolated_home, dataset, "hybrid")
    # The hybrid was trained with, and saved, the very intent encoder trained before it.
    np.testing.assert_allclose(
        hybrid.components["intent"].score([dataset.sequences()[0]]),  # type: ignore[attr-defined]
        intent.score([dataset.sequences()[0]]),
        rtol=1e-6,
    )

    write_demo(folder, DemoConfig(items=150, users=80, seed=99))  # the catalog changes
    with pytest.raises(ScorerError, match="retrain with `longtail train`"):
        load_trained(isolated_home, load_dataset(folder), "cf")


def test_missing_model_says_how_to_train(tmp_path: Path, isolated_home: Path) -> None:
    folder = tmp_path / "shop"
    write_demo(folder, DemoConfig(items=150, users=40))
    with pytest.raises(ScorerError, match="run `longtail train"):
        load_trained(isolated_home, load_dataset(folder), "intent")
