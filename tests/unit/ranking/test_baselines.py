"""What each classic baseline computes, on cases small enough to check by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from catalog.models import Product
from ranking.als import ALSScorer
from ranking.content import ContentScorer
from ranking.itemknn import ItemKNNScorer
from ranking.markov import MarkovScorer
from ranking.popularity import PopularityScorer
from ranking.scorer import ScorerError, TrainingData
from tests.unit.ranking.fakes import use_hashing_encoder


def training(sequences: list[list[int]], titles: list[str] | None = None) -> TrainingData:
    n_items = 1 + max(max(s) for s in sequences)
    titles = titles or [f"item {i}" for i in range(n_items)]
    products = [Product(item_id=str(i), title=t) for i, t in enumerate(titles)]
    return TrainingData(products=products, sequences=[np.array(s) for s in sequences])


def test_popularity_scores_are_training_counts() -> None:
    scorer = PopularityScorer().fit(training([[0, 1], [1, 2], [1]]))
    np.testing.assert_array_equal(scorer.score([np.array([2])])[0], [1, 3, 1])


def test_itemknn_sums_cosine_over_the_history() -> None:
    # users {0,1}, {0,1,2}, {2,3}: cos(0,1) = 2/2, cos(0,2) = cos(1,2) = 1/2, cos(2,3) = 1/√2
    scorer = ItemKNNScorer().fit(training([[0, 1], [0, 1, 2], [2, 3]]))
    np.testing.assert_allclose(scorer.score([np.array([0])])[0], [0, 1, 0.5, 0], atol=1e-6)
    np.testing.assert_allclose(
        scorer.score([np.array([0, 3, 0])])[0], [0, 1, 0.5 + 2**-0.5, 0], atol=1e-6
    )


def test_itemknn_shrink_and_neighbours() -> None:
    data = training([[0, 1], [0, 1, 2], [2, 3]])
    shrunk = ItemKNNScorer(shrink=1.0).fit(data).score([np.array([0])])[0]
    np.testing.assert_allclose(shrunk, [0, 2 / 3, 1 / 3, 0], atol=1e-6)
    nearest = ItemKNNScorer(neighbours=1).fit(data).score([np.array([2])])[0]
    np.testing.assert_allclose(nearest, [0, 0, 0, 2**-0.5], atol=1e-6)


def test_markov_sums_decayed_transitions_from_the_latest_items() -> None:
    # transitions 0→1 (twice), 1→2, 2→3, 0→2; a repeat 3→3 counts for nothing
    data = training([[0, 1, 2], [0, 1], [2, 3, 3], [0, 2]])
    latest_only = MarkovScorer(window=1).fit(data)
    np.testing.assert_allclose(
        latest_only.score([np.array([2, 0])])[0], np.log1p([0, 2, 1, 0]), atol=1e-6
    )
    # window 2, decay 0.5: 0 is the latest (weight 1), 2 before it (weight 0.5)
    two = MarkovScorer(window=2, decay=0.5).fit(data)
    np.testing.assert_allclose(
        two.score([np.array([1, 2, 0])])[0], np.log1p([0, 2, 1, 0.5]), atol=1e-6
    )


@pytest.mark.parametrize("params", [{"window": 0}, {"decay": 0.0}, {"decay": 1.5}])
def test_markov_rejects_settings_outside_their_range(params: dict[str, float]) -> None:
    with pytest.raises(ScorerError, match=r"markov: (window|decay) must be"):
        MarkovScorer(**params)


def test_als_folds_in_a_new_history() -> None:
    # two groups of items bought together; a new history from one group ranks its group first
    groups = [[0, 1, 2, 3], [4, 5, 6, 7]]
    sequences = [list(np.random.default_rng(u).permutation(groups[u % 2])) for u in range(40)]
    scorer = ALSScorer(factors=4, iterations=10).fit(training(sequences))
    top, _ = scorer.recommend(np.array([0, 1]), k=2)
    assert set(top.tolist()) == {2, 3}


def test_content_profile_weights_recent_items_by_decay(monkeypatch: pytest.MonkeyPatch) -> None:
    use_hashing_encoder(monkeypatch)
    titles = ["red tent", "blue kettle", "red tent poles", "blue kettle lid"]
    data = training([[0, 1, 2, 3]], titles)
    history = np.array([0, 1])  # a tent, then a kettle
    last_only = ContentScorer(decay=0.0).fit(data)
    assert last_only.recommend(history, k=1)[0][0] == 3  # follows the kettle
    mean = ContentScorer(decay=1.0).fit(data)
    vectors = mean.item_vectors
    profile = vectors[[0, 1]].mean(axis=0)
    expected = vectors @ (profile / np.linalg.norm(profile))
    np.testing.assert_allclose(mean.score([history])[0], expected, atol=1e-6)


def test_content_caches_item_vectors_under_longtail_home(
    monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    encoder = use_hashing_encoder(monkeypatch)
    data = training([[0, 1]], ["red tent", "blue kettle"])
    ContentScorer().fit(data)
    ContentScorer(decay=0.5).fit(data)
    assert encoder.calls == 1
    assert list(isolated_home.rglob("*.npy"))
    ContentScorer(template="{title} {title}").fit(data)  # other texts, another cache entry
    assert encoder.calls == 2


def test_content_with_the_packaged_minilm() -> None:
    titles = ["two-person camping tent", "chef's kitchen knife", "lightweight backpacking tent"]
    scorer = ContentScorer().fit(training([[0, 1, 2]], titles))
    top, _ = scorer.recommend(np.array([0]), k=2)
    assert top.tolist() == [2, 1]
