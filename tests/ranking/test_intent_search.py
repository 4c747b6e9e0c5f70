"""The intent encoder's search contains the plain text-SASRec recipe, and its batching."""

from __future__ import annotations

import numpy as np
import torch

from ranking.intent import IntentScorer, _length_batches
from ranking.intent_network import IntentNetwork
from ranking.intent_search import PLAIN, SPACE
from tests.ranking.test_intent import cycle_data


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


def test_length_batches_cover_every_sequence_once_with_little_padding() -> None:
    rng = np.random.default_rng(0)
    lengths = rng.choice([2, 3, 60], size=1000, p=[0.6, 0.35, 0.05])
    sequences = [(np.arange(n), np.zeros(n, dtype=np.int64)) for n in lengths]
    batches = _length_batches(sequences, 16, 50, np.random.default_rng(1))
    assert sorted(np.concatenate(batches).tolist()) == list(range(1000))
    padded = sum(len(b) * min(lengths[b].max(), 51) for b in batches)
    real = int(np.minimum(lengths, 51).sum())
    assert padded < 1.3 * real  # random batches of 16 would be mostly padding here
