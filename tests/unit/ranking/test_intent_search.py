"""The intent encoder's search contains the plain text-SASRec recipe."""

from __future__ import annotations

import numpy as np
import torch

from ranking.intent import IntentScorer
from ranking.intent_network import IntentNetwork
from ranking.intent_search import PLAIN, SPACE
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
