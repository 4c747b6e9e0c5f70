"""The hybrid ranker's weight for LLM-written candidates, learned on validation requests."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.kinds import product_kinds
from ranking.combiner import FIXED_WEIGHTS, Combiner
from ranking.hybrid import HybridScorer
from ranking.hybrid_features import FEATURES
from ranking.hybrid_ranker import MESSAGE_TAIL_KNOB, HybridRanker
from ranking.llm_weights import LLM_FEATURES, LLMText, fit_llm_combiner, llm_requests
from ranking.request import RankRequest
from tests.unit.ranking.fakes import requests_found_by

LLM = [FEATURES.index(n) for n in LLM_FEATURES]
OTHERS = [i for i in range(len(FEATURES)) if i not in LLM]


def test_only_the_llm_weights_are_learned_and_kept_when_they_win() -> None:
    hand_set = Combiner()
    combiner, report = fit_llm_combiner(hand_set, requests_found_by("llm_z"))
    assert report["chosen"] == "learned" and combiner is not None
    hits = report["check_hit@10"]
    assert hits["learned"] > hits["hand_set"] > hits["llm_weight_zero"]
    assert report["weights"]["llm_z"] > FIXED_WEIGHTS["llm_z"]
    assert report["hand_set_weights"] == {"llm_z": 1.0, "llm_rank": 0.5}
    np.testing.assert_array_equal(combiner.weights[OTHERS], hand_set.weights[OTHERS])
    assert list(np.flatnonzero(combiner.learned)) == LLM


def test_llm_texts_that_find_nothing_get_little_weight() -> None:
    combiner, report = fit_llm_combiner(Combiner(), requests_found_by("sparse_z"))
    assert combiner is not None  # dropping the hand-set 1.0 on noise is a gain
    assert abs(report["weights"]["llm_z"]) < 0.3


def test_too_few_held_back_requests_decide_nothing() -> None:
    combiner, report = fit_llm_combiner(Combiner(), requests_found_by("llm_z", n=26))
    assert combiner is None and report["chosen"] == "hand_set"
    assert report["check_requests"] == 6 and "fewer than" in report["reason"]


def test_the_hand_set_weights_stay_when_learning_does_not_beat_them() -> None:
    requests = requests_found_by("llm_z")
    for r in requests:  # only llm_z varies: the hand-set order is already perfect
        kept = r.features[:, FEATURES.index("llm_z")].copy()
        r.features[:] = 0.0
        r.features[:, FEATURES.index("llm_z")] = kept
    combiner, report = fit_llm_combiner(Combiner(), requests)
    assert combiner is None and report["chosen"] == "hand_set"
    assert report["check_hit@10"]["hand_set"] == 1.0


# ------------------------------------------------------------ served, end to end
# `hybrid_ranker`: the session's demo store (tests/unit/ranking/conftest.py).


def test_validation_requests_carry_the_texts_written_for_their_targets_kind(
    hybrid_ranker: HybridRanker,
) -> None:
    dataset = hybrid_ranker.dataset
    kinds = product_kinds(dataset.products)
    asked: list[list[str]] = []

    def texts(wanted: list[str]) -> dict[str, LLMText | None]:
        asked.append(list(wanted))
        return {
            k: None if n == 0 else LLMText(f"need {k}", f"need {k}; x {k}", (f"x {k}",))
            for n, k in enumerate(wanted)
        }

    requests, report = llm_requests(dataset, kinds, texts, n=40)
    assert len(asked) == 1 and len(asked[0]) <= 40 // 5  # one batch of LLM work, capped
    ids = dataset.item_ids
    sequences = {tuple(ids[int(i)] for i in s) for s in dataset.sequences()}
    passed_over = asked[0][0]
    assert report["kinds"] == len(asked[0])
    # Drawn until 40 requests or until a request's kind would be one too many; the first
    # kind got no text, so its requests (at least the one that named it) are passed over.
    assert len(requests) < report["drawn_requests"] <= 40
    for request, target in requests:
        kind = kinds[ids[target]]
        assert kind != passed_over and kind in asked[0]
        assert (*request.history, ids[target]) in sequences  # the user's last interaction
        assert request.llm_texts == (f"x {kind}",) and request.message == f"need {kind}; x {kind}"
        assert request.kind == ""  # a need names no kind: served with the hand-set weights
    assert report["kinds_with_text"] == len(asked[0]) - 1


def test_requests_with_llm_texts_are_scored_by_the_llm_weights(
    hybrid_ranker: HybridRanker, monkeypatch: pytest.MonkeyPatch
) -> None:
    ranker = hybrid_ranker
    dataset = ranker.dataset
    learned = Combiner(ranker.scorer.active_features())
    learned.weights = -learned.weights  # unlike the hand-set combination
    monkeypatch.setattr(ranker.scorer, "llm_combiner", learned)
    history = tuple(dataset.item_ids[int(i)] for i in max(dataset.sequences(), key=len)[:5])
    hand_set = ranker.scorer.combiner
    for message, texts, kind, combiner in (
        ("camping trip; tent", ("tent",), "", learned),  # an indirect need, expanded
        ("camping trip", (), "", hand_set),  # no LLM texts
        ("a tent; tent", ("tent",), "tent", hand_set),  # names a kind: the message weights'
    ):
        request = RankRequest(history=history, message=message, llm_texts=texts, kind=kind, k=5)
        candidates, features = ranker.scorer.candidate_features(ranker.request_rows(request))
        top = ranker.rank(request).items[0]
        row = features[list(candidates).index(dataset.item_index(top.item_id))]
        assert top.score == pytest.approx(float(combiner.score(row)), abs=1e-3)


def test_the_knob_chosen_for_messages_that_name_a_kind_applies_only_to_them(
    hybrid_ranker: HybridRanker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hybrid_ranker.scorer, "message_tail_knob", 0.9)
    knob = lambda **kw: hybrid_ranker.rank(RankRequest(k=3, **kw)).tail_knob  # noqa: E731
    assert knob(message="a tent", kind="tent") == 0.9
    assert knob(message="camping in the rain") == MESSAGE_TAIL_KNOB
    assert knob() == hybrid_ranker.scorer.tail_knob
    assert knob(message="a tent", kind="tent", tail_knob=0.1) == 0.1  # the request's own


def test_the_llm_weights_and_message_knob_are_saved_with_the_model(
    hybrid_ranker: HybridRanker, monkeypatch: pytest.MonkeyPatch
) -> None:
    scorer = hybrid_ranker.scorer
    learned = scorer.combiner.copy()
    learned.weights[LLM] = [2.5, -0.5]
    monkeypatch.setattr(scorer, "llm_combiner", learned)
    monkeypatch.setattr(scorer, "message_tail_knob", 0.4)
    twin = HybridScorer()
    twin.set_state(scorer.state())
    assert twin.message_tail_knob == 0.4 and twin.message_combiner is None
    assert twin.llm_combiner is not None
    np.testing.assert_array_equal(twin.llm_combiner.weights, learned.weights)
    monkeypatch.setattr(scorer, "llm_combiner", None)
    monkeypatch.setattr(scorer, "message_tail_knob", None)
    older = HybridScorer()
    older.set_state(scorer.state())  # a model saved before either was learned
    assert older.llm_combiner is None and older.message_tail_knob is None
