"""The contract every registered scorer keeps; a new model gets the whole suite for free."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evaluation.split import leave_last_out
from ranking import registry
from ranking.scorer import Scorer, ScorerError, TrainingData
from ranking.spec import ScorerSpec
from tests.unit.ranking.fakes import small_demo, use_hashing_encoder

SEED = 3


@pytest.fixture(scope="module")
def training() -> TrainingData:
    return leave_last_out(small_demo()).training


@pytest.fixture(params=registry.names())
def spec(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> ScorerSpec:
    use_hashing_encoder(monkeypatch)
    return registry.get(request.param)


@pytest.fixture(scope="module")
def fitted_once() -> dict[str, Scorer]:
    """Fitted scorers by name, shared by the module's tests (scoring never changes them)."""
    return {}


@pytest.fixture
def fitted(spec: ScorerSpec, training: TrainingData, fitted_once: dict[str, Scorer]) -> Scorer:
    if spec.name not in fitted_once:
        fitted_once[spec.name] = spec.build(SEED).fit(training)
    return fitted_once[spec.name]


def histories(training: TrainingData) -> list[np.ndarray]:
    return [h for h, _ in training.validation[:7]] + [np.array([], dtype=np.int64)]


def test_scores_one_row_per_history_over_all_items(fitted: Scorer, training: TrainingData) -> None:
    scores = fitted.score(histories(training))
    assert scores.shape == (8, training.n_items)
    assert scores.dtype == np.float32
    assert np.isfinite(scores).all()
    assert fitted.score([]).shape == (0, training.n_items)


def test_recommend_excludes_the_history_and_asked_items(
    fitted: Scorer, training: TrainingData
) -> None:
    history = training.validation[0][0]
    exclude = np.array([0, 1])
    top, scores = fitted.recommend(history, k=15, exclude=exclude)
    assert len(top) == 15
    assert not set(top.tolist()) & (set(history.tolist()) | {0, 1})
    assert (np.diff(scores) <= 0).all()
    everything, _ = fitted.recommend(history, k=training.n_items + 5)
    assert len(everything) == training.n_items - len(set(history.tolist()))


def test_fitting_twice_gives_the_same_scores(
    spec: ScorerSpec, fitted: Scorer, training: TrainingData
) -> None:
    again = spec.build(SEED).fit(training)
    np.testing.assert_allclose(
        fitted.score(histories(training)), again.score(histories(training)), rtol=1e-5, atol=1e-6
    )


def test_save_and_load_round_trip(fitted: Scorer, training: TrainingData, tmp_path: Path) -> None:
    fitted.save(tmp_path / "model", fingerprint=training.fingerprint)
    loaded = type(fitted).load(tmp_path / "model", fingerprint=training.fingerprint)
    assert loaded.params() == fitted.params()
    np.testing.assert_allclose(
        loaded.score(histories(training)), fitted.score(histories(training)), rtol=1e-6
    )


def test_unknown_item_indices_are_refused_by_name(fitted: Scorer, training: TrainingData) -> None:
    for bad in (training.n_items, -1):
        with pytest.raises(ScorerError, match=rf"unknown item index {bad}\b"):
            fitted.score([np.array([0, bad])])


def test_a_model_of_other_data_is_refused(fitted: Scorer, tmp_path: Path) -> None:
    fitted.save(tmp_path / "model", fingerprint="aaaa")
    with pytest.raises(ScorerError, match="fingerprint aaaa"):
        type(fitted).load(tmp_path / "model", fingerprint="bbbb")


def test_scoring_before_fitting_is_a_clear_error(spec: ScorerSpec) -> None:
    with pytest.raises(ScorerError, match="before fit"):
        spec.build(SEED).score([np.array([0])])


def test_every_grid_candidate_is_a_valid_configuration(spec: ScorerSpec) -> None:
    for params in spec.grid:
        assert isinstance(spec.build(SEED, **params), Scorer)


def test_unknown_model_names_list_the_known_ones() -> None:
    with pytest.raises(registry.UnknownModelError, match=r"known models: .*itemknn"):
        registry.get("nope")


def test_refit_learns_from_the_refit_data_and_leaves_the_tuned_model_as_it_was(
    fitted: Scorer, training: TrainingData
) -> None:
    refit_data = leave_last_out(small_demo()).refit
    assert refit_data is not None
    before = fitted.score(histories(training))
    refitted = fitted.refit(refit_data)
    assert type(refitted) is type(fitted)
    assert refitted.n_items == fitted.n_items
    np.testing.assert_array_equal(fitted.score(histories(training)), before)
    after = refitted.score(histories(training))
    assert after.shape == before.shape and np.isfinite(after).all()
