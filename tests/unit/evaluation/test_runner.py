"""The runner: full-catalog lists without the history, tuning on validation only."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from evaluation.runner import evaluate_model, run_evaluation
from evaluation.split import leave_last_out
from ranking.metrics import PAD
from ranking.scorer import Scorer, TrainingData
from ranking.spec import ScorerSpec
from ranking.tuning import _best_first, top_k, tune, tuning_sample
from tests.unit.evaluation.builders import dataset
from tests.unit.ranking.fakes import small_demo, use_hashing_encoder


class FavouriteScorer(Scorer):
    """Scores `favourite` highest and every other item by its index (lower = better)."""

    name = "favourite"

    def __init__(self, favourite: int = 0) -> None:
        self.favourite = favourite

    def fit(self, data: TrainingData) -> FavouriteScorer:
        self.n_items = data.n_items
        return self

    def _score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        scores = np.tile(-np.arange(self.n_items, dtype=np.float32), (len(histories), 1))
        scores[:, self.favourite] = 1.0
        return scores


def favourite_spec(*favourites: int) -> ScorerSpec:
    grid = tuple({"favourite": f} for f in favourites)
    return ScorerSpec("favourite", lambda seed, **p: FavouriteScorer(**p), "test", grid=grid)


def test_top_k_excludes_the_history_and_pads_short_lists() -> None:
    scorer = FavouriteScorer(favourite=3).fit(TrainingData(small_demo().products[:5], []))
    lists = top_k(scorer, [np.array([0]), np.array([3, 1, 2, 4])], k=6, batch_size=1)
    assert lists.tolist() == [[3, 1, 2, 4, PAD, PAD], [0, PAD, PAD, PAD, PAD, PAD]]


def test_equal_scores_are_ranked_by_item_index() -> None:
    class Flat(FavouriteScorer):
        def _score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
            return np.zeros((len(histories), self.n_items))

    scorer = Flat().fit(TrainingData(small_demo().products[:6], []))
    assert top_k(scorer, [np.array([2])], k=4).tolist() == [[0, 1, 3, 4]]


def test_tuning_keeps_the_best_candidate_on_validation() -> None:
    # every validation target is item 5, so the candidate that favours 5 wins
    rows = [(u, i, float(t)) for u in range(4) for t, i in enumerate([u, 5, 6])]
    training = leave_last_out(dataset(rows, n_items=7, n_users=4)).training
    scorer, params, tried = tune(favourite_spec(0, 5, 2), training, seed=0)
    assert params == {"favourite": 5} and scorer.params() == {} and scorer.favourite == 5
    assert [c.params["favourite"] for c in tried] == [0, 5, 2]
    assert tried[1].validation == pytest.approx(1.0)


def test_a_single_candidate_is_not_tried_on_validation() -> None:
    training = leave_last_out(small_demo()).training
    scorer, params, tried = tune(favourite_spec(4), training, seed=0)
    assert (scorer.favourite, params, tried) == (4, {"favourite": 4}, [])


def test_model_result_holds_every_metric_and_the_exposure_curve() -> None:
    result = evaluate_model(favourite_spec(0, 1), leave_last_out(small_demo()), seed=0)
    assert len(result.metrics) == 20 and result.seconds >= 0
    assert len(result.exposure) == 10 and sum(result.exposure) == pytest.approx(1.0)
    assert 0 < result.metrics["coverage@10"] <= result.metrics["coverage@20"] < 1


def test_run_evaluation_on_a_user_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    use_hashing_encoder(monkeypatch)
    result = run_evaluation(small_demo(), ["pop", "content"], users=25, seed=1)
    assert (result.dataset, result.protocol, result.test_queries) == ("demo", "loo", 25)
    assert [m.name for m in result.models] == ["pop", "content"]
    assert [c.params for c in result.models[1].tuning] == [
        {"decay": d} for d in (1.0, 0.8, 0.5, 0.2, 0.0)
    ]
    assert sum(result.training_exposure) == pytest.approx(1.0)


def test_tuning_sample_is_seeded_ordered_and_complete_when_small() -> None:
    pairs = [(np.array([i]), i + 1) for i in range(50)]
    assert tuning_sample(pairs, seed=3, size=100) is pairs
    first, again = tuning_sample(pairs, 3, 20), tuning_sample(pairs, 3, 20)
    assert first == again and len(first) == 20
    picked = [target for _, target in first]
    assert picked == sorted(picked) and len(set(picked)) == 20


def test_best_first_matches_a_stable_full_sort_with_ties_and_excluded_items() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        rows, items, k = int(rng.integers(1, 8)), int(rng.integers(1, 60)), int(rng.integers(1, 25))
        scores = rng.integers(0, 5, size=(rows, items)).astype(np.float32)  # many ties
        scores[rng.random((rows, items)) < 0.3] = -np.inf  # excluded history items
        expected = np.argsort(-scores, axis=1, kind="stable")[:, : min(k, items)]
        np.testing.assert_array_equal(_best_first(scores, k), expected)
