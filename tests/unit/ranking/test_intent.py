"""The intent encoder: it learns sequence patterns, reaches never-seen items by their text,
joins history with the current message, explains itself, and round-trips through disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from catalog.models import Product
from ranking import registry
from ranking.fitted import fit_once, forget
from ranking.intent import IntentScorer, short_query
from ranking.scorer import ScorerError, TrainingData
from retrieval.encoders import SentenceTransformerEncoder

FAST = {"hidden": 32, "heads": 2, "blocks": 1, "dropout": 0.0, "lr": 0.01, "progress": False}


def cycle_data(n_items: int = 12, users: int = 60) -> TrainingData:
    """Every shopper walks the cycle 0 → 1 → … → n-1 → 0 from a random start."""
    rng = np.random.default_rng(0)
    products = [Product(item_id=f"i{i}", title=f"item number {i}") for i in range(n_items)]
    sequences = []
    for _ in range(users):
        start = int(rng.integers(n_items))
        sequences.append((start + np.arange(int(rng.integers(4, 9)))) % n_items)
    validation = [(s[:-1], int(s[-1])) for s in sequences[:10]]
    return TrainingData(products=products, sequences=sequences, validation=validation)


@pytest.fixture(scope="module")
def cycle_model() -> IntentScorer:
    data = cycle_data()
    vectors = np.random.default_rng(1).normal(size=(data.n_items, 8)).astype(np.float32)
    return IntentScorer(**FAST, max_epochs=60, patience=60, message_rate=0.0).fit(
        data, text_vectors=vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    )


def test_learns_a_deterministic_sequence_pattern(cycle_model: IntentScorer) -> None:
    n = cycle_model.n_items
    correct = 0
    for last in range(n):
        history = np.array([(last - 1) % n, last])
        top, _ = cycle_model.recommend(history, k=1)
        correct += int(top[0] == (last + 1) % n)
    assert correct >= n - 1


def test_training_is_deterministic_for_a_seed() -> None:
    data = cycle_data(users=20)
    vectors = np.eye(data.n_items, dtype=np.float32)
    first = IntentScorer(**FAST, max_epochs=3).fit(data, text_vectors=vectors)
    second = IntentScorer(**FAST, max_epochs=3).fit(data, text_vectors=vectors)
    history = [np.array([1, 2, 3])]
    np.testing.assert_allclose(first.score(history), second.score(history), rtol=1e-5)


SHOP = [
    ("tent", "Trailwise 2-person backpacking tent", "Outdoor"),
    ("bag", "Trailwise down sleeping bag for camping", "Outdoor"),
    ("pad", "Insulated sleeping pad for camping", "Outdoor"),
    ("knife", "Chef's knife, 8-inch Damascus steel", "Kitchen"),
    ("board", "End grain wooden cutting board", "Kitchen"),
    ("pan", "Cast iron skillet, 12-inch", "Kitchen"),
    ("leash", "Reflective dog leash, 6ft", "Pets"),
    ("collar", "Padded dog harness, no-pull", "Pets"),
    ("bed", "Orthopedic dog bed with washable cover", "Pets"),
    ("newbag", "Ultralight mummy sleeping bag for backpacking and camping", "Outdoor"),
]


@pytest.fixture(scope="module")
def shop_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[IntentScorer, list[Product]]:
    products = [Product(item_id=i, title=t, category=c) for i, t, c in SHOP]
    rng = np.random.default_rng(3)
    pairs = [(0, 1), (0, 2), (3, 4), (3, 5), (6, 7), (6, 8)]  # tent → bag/pad, knife → ...
    sequences = []
    for _ in range(150):
        a, b = pairs[int(rng.integers(len(pairs)))]
        c, d = pairs[int(rng.integers(len(pairs)))]
        sequences.append(np.array([a, b, c, d]))
    data = TrainingData(products=products, sequences=sequences)  # item 9 is never seen
    encoder = SentenceTransformerEncoder()
    vectors = encoder.encode([p.title for p in products])
    messages = encoder.encode([short_query(p) for p in products])
    model = IntentScorer(**FAST, max_epochs=40, patience=40, message_rate=0.3)
    return model.fit(data, text_vectors=vectors, message_vectors=messages), products


def test_never_seen_item_is_scored_by_its_text(shop_model: tuple[IntentScorer, list]) -> None:
    model, _ = shop_model
    new_bag, kitchen, pets = 9, [3, 4, 5], [6, 7, 8]
    for history in ([0], [3, 4, 0]):  # a tent; kitchen things, then a tent
        scores = model.score([np.array(history)])[0]
        assert scores[new_bag] > max(scores[kitchen])
        assert scores[new_bag] > np.mean(scores[pets])


def test_message_steers_an_empty_or_unrelated_history(shop_model) -> None:
    model, _ = shop_model
    encoder = SentenceTransformerEncoder()
    message = encoder.encode(["a comfy bed for my dog"])[0]
    empty = model.score_with([np.array([], dtype=np.int64)], messages=message[None, :])[0]
    assert int(np.argmax(empty)) in {8, 6, 7}
    plain = model.score([np.array([], dtype=np.int64)])[0]
    assert np.isfinite(plain).all()


def test_explanations_weigh_the_history(shop_model) -> None:
    model, _ = shop_model
    message = SentenceTransformerEncoder().encode(["sleeping bag"])[0]
    explanation = model.explain(np.array([3, 0]), message=message)
    assert explanation.attention.shape == (2,)
    assert (explanation.attention >= 0).all()
    assert explanation.attention.sum() + explanation.message_attention <= 1.0 + 1e-5
    assert explanation.message_attention > 0
    assert explanation.intent.shape == (FAST["hidden"],)


def test_save_load_round_trip_and_fingerprint(shop_model, tmp_path: Path) -> None:
    model, _ = shop_model
    model.save(tmp_path / "intent", fingerprint="abc")
    loaded = IntentScorer.load(tmp_path / "intent", fingerprint="abc")
    history = [np.array([0, 1]), np.array([6])]
    np.testing.assert_allclose(loaded.score(history), model.score(history), rtol=1e-5)
    with pytest.raises(ScorerError, match="fingerprint"):
        IntentScorer.load(tmp_path / "intent", fingerprint="other")
    with pytest.raises(ScorerError, match="unknown item index 99"):
        loaded.score([np.array([99])])


def test_short_query_drops_the_brand() -> None:
    product = Product(item_id="x", title="HP 78 Tri-Color Printer Cartridge", brand="HP")
    assert short_query(product) == "78 Tri-Color Printer Cartridge"
    typed = Product(item_id="y", title="t", attributes={"type": "tent", "features": ["2-person"]})
    assert short_query(typed) == "2-person tent"


def test_an_ablation_switches_one_searched_choice() -> None:
    forget()
    data = cycle_data()
    searched = fit_once(registry.get("intent"), registry.get("intent").grid[0], data, 7)
    name = "intent-ablate-category"
    ablated = fit_once(registry.get(name), registry.get(name).grid[0], data, 7)
    chosen, switched = searched.chosen_params(), ablated.chosen_params()  # type: ignore[attr-defined]
    assert switched["category"] is not chosen["category"]
    rest = [k for k in chosen if k not in ("category", "best_epoch")]
    assert [switched[k] for k in rest] == [chosen[k] for k in rest]
    assert searched.search_trials and not ablated.search_trials  # type: ignore[attr-defined]


def test_a_refit_trains_the_validation_best_epochs_without_a_search() -> None:
    data = cycle_data(users=30)
    tuned = IntentScorer(**FAST, max_epochs=6, patience=2, message_rate=0.0).fit(data)
    best = tuned.config["best_epoch"]
    assert 1 <= best <= 6
    # cycle_data's sequences already end with their validation targets; no validation left
    refit_data = TrainingData(products=data.products, sequences=data.sequences)
    refitted = tuned.refit(refit_data)
    assert len(refitted.history_log) == best
    assert not refitted.search_trials
    for key in ("hidden", "lr", "dropout", "max_len", "logq"):
        assert refitted.config[key] == tuned.config[key]
    assert tuned.config["best_epoch"] == best  # the tuned model is left as it was
