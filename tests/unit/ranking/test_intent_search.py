"""The intent encoder's search: the plain text-SASRec recipe first, trials on a share of the
users within a work budget; SASRec's own parts (block, no START, input scale) as options."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from ranking import intent_search
from ranking.intent import LEGACY, IntentScorer, TrainingInputs, _seen_items, _training_batch
from ranking.intent_network import PAD, START_KIND, IntentNetwork
from ranking.intent_search import PLAIN, SPACE, user_sample
from tests.unit.ranking.test_intent import cycle_data


def test_the_plain_recipe_is_in_the_space_and_tried_first() -> None:
    for key, value in PLAIN.items():
        assert value in SPACE[key], key
    data = cycle_data(users=30)
    vectors = np.eye(data.n_items, dtype=np.float32)
    model = IntentScorer(
        hidden=16, max_epochs=4, search_epochs=2, search_budget_s=1e9, search_trials=2,
        progress=False,
    ).fit(data, text_vectors=vectors)  # fmt: skip
    first = {k: v for k, v in model.search_trials[0].items() if k in SPACE}
    assert first == PLAIN
    assert len(model.search_trials) == 2


def test_no_shrinkage_means_an_ungated_id_embedding() -> None:
    counts = torch.tensor([0.0, 1.0, 50.0])
    net = IntentNetwork(torch.eye(3), counts, hidden=4, id_shrinkage=0.0)
    with torch.no_grad():
        net.item_ids.weight.fill_(1.0)
    plain = net.item_table() - net.text_projection(net.text_vectors)
    torch.testing.assert_close(plain, torch.ones(3, 4))  # never-seen item 0 included
    net.id_shrinkage = 1.0
    gated = net.item_table() - net.text_projection(net.text_vectors)
    torch.testing.assert_close(gated[:, 0], torch.tensor([0.0, 0.5, 50 / 51]))


def test_the_work_budget_bounds_the_trials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each trial here runs 2 epochs over all (few) users: a budget of 3 epochs leaves room
    for one trial, 4 for two, however many trials are allowed."""
    data = cycle_data(users=30)
    vectors = np.eye(data.n_items, dtype=np.float32)
    found = []
    for budget in (3.0, 4.0):
        monkeypatch.setattr(intent_search, "SEARCH_BUDGET_EPOCHS", budget)
        model = IntentScorer(
            hidden=16, max_epochs=2, search_epochs=2, search_budget_s=1e9, search_trials=24,
            progress=False,
        ).fit(data, text_vectors=vectors)  # fmt: skip
        found.append(len(model.search_trials))
    assert found == [1, 2]


def test_trials_train_on_a_seeded_share_of_the_users(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intent_search, "SEARCH_MIN_USERS", 10)
    sequences = [(np.arange(i % 5 + 2), np.zeros(i % 5 + 2)) for i in range(200)]
    inputs = TrainingInputs(np.eye(8), torch.zeros(8, 8), np.ones(8), np.zeros(8), sequences)
    first = user_sample(inputs, np.random.default_rng(7)).sequences
    again = user_sample(inputs, np.random.default_rng(7)).sequences
    assert len(first) == round(intent_search.SEARCH_SHARE * 200)
    assert [len(s) for s, _ in first] == [len(s) for s, _ in again]
    small = replace(inputs, sequences=sequences[:15])
    assert len(user_sample(small, np.random.default_rng(7)).sequences) == 10
    tiny = replace(inputs, sequences=sequences[:6])
    assert len(user_sample(tiny, np.random.default_rng(7)).sequences) == 6  # all of them


@pytest.mark.parametrize("block", ["prenorm", "sasrec"])
def test_sasrec_parts_learn_the_cycle(block: str) -> None:
    """Either block, with or without START and the sqrt(hidden) input scale, learns."""
    data = cycle_data()
    vectors = np.eye(data.n_items, dtype=np.float32)
    for start_token in (True, False):
        model = IntentScorer(
            hidden=32, blocks=1, dropout=0.0, lr=0.01, max_epochs=40, patience=40,
            message_rate=0.0, block=block, start_token=start_token, input_scale=True,
            progress=False,
        ).fit(data, text_vectors=vectors)  # fmt: skip
        n = model.n_items
        nexts = [model.recommend(np.array([(i - 1) % n, i]), k=1)[0][0] for i in range(n)]
        assert sum(int(t == (i + 1) % n) for i, t in enumerate(nexts)) >= n - 1, start_token


def test_without_start_the_first_item_is_not_a_target() -> None:
    chosen = [(np.array([4, 5, 6]), np.zeros(3, dtype=np.int64))]
    items, kinds, targets, _ = _training_batch(chosen, np.array([False]), 50, start_token=False)
    assert items.tolist() == [[4, 5]] and targets.tolist() == [[5, 6]]
    items, kinds, targets, _ = _training_batch(chosen, np.array([False]), 50, start_token=True)
    assert items.tolist() == [[PAD, 4, 5]] and targets.tolist() == [[4, 5, 6]]
    assert kinds[0, 0] == START_KIND


def test_history_mask_hides_earlier_items_but_never_the_target() -> None:
    items = torch.tensor([[PAD, 1, 2, 1]])
    targets = torch.tensor([[1, 2, 1, 3]])
    valid = targets != PAD
    seen = _seen_items(items, valid, targets, 4)
    assert seen.tolist() == [
        [False, False, False, False],  # nothing seen yet (the START slot)
        [False, True, False, False],  # saw 1
        [False, False, True, False],  # saw 1 and 2, but 1 is the target: it stays
        [False, True, True, False],
    ]


def test_a_model_saved_before_the_block_option_loads_as_it_was_trained(tmp_path) -> None:
    data = cycle_data(users=20)
    vectors = np.eye(data.n_items, dtype=np.float32)
    old = IntentScorer(
        hidden=16, blocks=1, max_epochs=2, block="prenorm", input_scale=False, progress=False
    ).fit(data, text_vectors=vectors)
    old.save(tmp_path / "intent")
    config = json.loads((tmp_path / "intent" / "config.json").read_text())
    for key in LEGACY:  # what an earlier version's save did not write
        del config["params"][key]
    (tmp_path / "intent" / "config.json").write_text(json.dumps(config))
    loaded = IntentScorer.load(tmp_path / "intent")
    history = [np.array([1, 2, 3])]
    np.testing.assert_allclose(loaded.score(history), old.score(history), rtol=1e-5)
