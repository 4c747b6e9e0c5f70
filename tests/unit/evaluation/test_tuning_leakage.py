"""Tuning never sees test targets: poisoning every test target leaves every choice unchanged.

Two datasets differ only in each user's last interaction (the leave-last-out test target).
Everything chosen on validation (the intent encoder's search, the hybrid's combiner weights
and its default tail knob, the baselines' grids) must come out identical on both, while the
test targets really do differ.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from catalog.dataset import Dataset
from evaluation.split import MIN_LOO_INTERACTIONS, Split, leave_last_out
from ranking import registry
from ranking.fitted import forget
from ranking.hybrid import HybridScorer
from ranking.intent import IntentScorer
from ranking.tuning import tune
from tests.unit.ranking.fakes import small_demo, use_hashing_encoder

SEARCH = {"hidden": 32, "max_epochs": 3, "patience": 1, "search_budget_s": 1e9}
SEARCH_SMALL = {**SEARCH, "search_trials": 3, "search_epochs": 2, "progress": False}


def poisoned(dataset: Dataset) -> Dataset:
    """The same log with each test user's last interaction moved to another item."""
    order = dataset.order
    bounds = np.searchsorted(dataset.users[order], np.arange(dataset.n_users + 1))
    tested = np.diff(bounds) >= MIN_LOO_INTERACTIONS
    last = order[bounds[1:][tested] - 1]
    items = dataset.items.copy()
    items[last] = (items[last] + 1 + dataset.n_items // 2) % dataset.n_items
    return replace(dataset, items=items)


@pytest.fixture(scope="module")
def splits() -> tuple[Split, Split]:
    clean = small_demo()
    clean_split, dirty_split = leave_last_out(clean), leave_last_out(poisoned(clean))
    changed = sum(
        int(a.targets[0] != b.targets[0])
        for a, b in zip(clean_split.test, dirty_split.test, strict=True)
    )
    assert changed == len(clean_split.test)  # every test target differs
    for a, b in zip(clean_split.training.sequences, dirty_split.training.sequences, strict=True):
        assert a.tolist() == b.tolist()
    return clean_split, dirty_split


def vectors(n_items: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    v = rng.normal(size=(n_items, 16)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_intent_search_is_blind_to_test_targets(splits: tuple[Split, Split]) -> None:
    found = []
    for split in splits:
        model = IntentScorer(**SEARCH_SMALL).fit(
            split.training, text_vectors=vectors(split.training.n_items)
        )
        trials = [{k: v for k, v in t.items() if k != "seconds"} for t in model.search_trials]
        found.append((trials, model.params(), model.history_log))
        assert len(model.search_trials) == 3  # the search did run
    assert found[0] == found[1]


def test_hybrid_choices_are_blind_to_test_targets(
    splits: tuple[Split, Split], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_hashing_encoder(monkeypatch)
    quick_intent = {"intent": {"hidden": 32, "max_epochs": 2, "search_budget_s": 0.0}}
    chosen = []
    for split in splits:
        forget()
        hybrid = HybridScorer(seed=3, components=quick_intent).fit(split.training)
        baselines = {
            name: tune(registry.get(name), split.training, 3)[1] for name in ("itemknn", "content")
        }
        choices = (hybrid.tail_knob, hybrid.knob_validation, hybrid.describe())
        chosen.append((*choices, hybrid.component_params, baselines))
        assert hybrid.knob_validation  # the knob was chosen on validation
    assert chosen[0] == chosen[1]


def test_the_refit_data_is_blind_to_test_targets(splits: tuple[Split, Split]) -> None:
    clean, dirty = (split.refit for split in splits)
    assert clean is not None and dirty is not None
    assert [s.tolist() for s in clean.sequences] == [s.tolist() for s in dirty.sequences]
    assert [e.tolist() for e in clean.events] == [e.tolist() for e in dirty.events]
    assert not clean.validation and not dirty.validation
