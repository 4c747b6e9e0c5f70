"""The hybrid ranker's weights for requests with a chat message, learned on validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.loading import load_dataset
from core.settings import Settings
from evaluation.kinds import kind_messages, message_for, product_kinds
from ranking.combiner import Combiner
from ranking.hybrid_features import FEATURES
from ranking.hybrid_ranker import HybridRanker
from ranking.message_combiner import fit_message_combiner, message_requests
from ranking.request import RankRequest
from tests.unit.ranking.fakes import requests_found_by


def test_learned_weights_are_kept_when_they_beat_the_hand_set_ones() -> None:
    combiner, report = fit_message_combiner(Combiner(), requests_found_by("sparse_z"))
    assert report["chosen"] == "learned" and combiner is not None
    hits = report["check_hit@10"]
    assert hits["learned"] > hits["hand_set"]
    weights = report["weights"]
    assert weights["sparse_z"] > 3 * abs(weights["message_z"])
    assert report["requests"] == 200 and report["check_requests"] == 50


def test_the_hand_set_weights_stay_when_learning_does_not_beat_them() -> None:
    # Only message_z varies and finds the target: the hand-set order is already perfect.
    requests = requests_found_by("message_z")
    for r in requests:
        kept = r.features[:, FEATURES.index("message_z")].copy()
        r.features[:] = 0.0
        r.features[:, FEATURES.index("message_z")] = kept
    combiner, report = fit_message_combiner(Combiner(), requests)
    assert combiner is None
    assert report["chosen"] == "hand_set"
    assert report["check_hit@10"]["hand_set"] == 1.0


# ------------------------------------------------------------ served, end to end
# `served` and `hybrid_ranker`: the session's demo store (tests/unit/ranking/conftest.py).


def test_validation_requests_name_their_targets_kind_and_hide_it(
    served: tuple[Settings, Path],
) -> None:
    dataset = load_dataset(served[1])
    kinds = product_kinds(dataset.products)
    ids = dataset.item_ids
    sequences = {tuple(ids[int(i)] for i in s) for s in dataset.sequences()}
    requests = message_requests(dataset, kind_messages(dataset.products), n=50)
    assert len(requests) == 50
    for request, target in requests:
        assert (*request.history, ids[target]) in sequences  # the user's last interaction
        assert request.message == message_for(kinds[ids[target]])
        assert len(request.events) == len(request.history)


def test_only_messages_that_name_a_kind_are_scored_by_the_message_weights(
    hybrid_ranker: HybridRanker, monkeypatch: pytest.MonkeyPatch
) -> None:
    ranker = hybrid_ranker
    dataset = ranker.dataset
    reversed_ = Combiner(ranker.scorer.active_features())
    reversed_.weights = -reversed_.weights  # unlike any history combination
    monkeypatch.setattr(ranker.scorer, "message_combiner", reversed_)
    history = tuple(dataset.item_ids[int(i)] for i in max(dataset.sequences(), key=len)[:5])
    # The weights were learned on messages naming their target's kind: a message the agent
    # read no kind in (an indirect need) and a request without words keep the hand-set ones.
    for message, kind, combiner in (
        ("a tent", "tent", reversed_),
        ("a gift for my dad who loves the outdoors", "", ranker.scorer.combiner),
        ("", "tent", ranker.scorer.combiner),
    ):
        request = RankRequest(history=history, message=message, kind=kind, k=5)
        candidates, features = ranker.scorer.candidate_features(ranker.request_rows(request))
        top = ranker.rank(request).items[0]
        row = features[list(candidates).index(dataset.item_index(top.item_id))]
        assert top.score == pytest.approx(float(combiner.score(row)), abs=1e-3)
        assert sum(top.contributions.values()) == pytest.approx(top.score, abs=1e-2)
