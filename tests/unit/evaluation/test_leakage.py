"""No model can see a test target or anything after it: checked on what scorers are given."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from catalog.dataset import Dataset
from evaluation.runner import evaluate_model
from evaluation.split import Split, leave_last_out, temporal
from ranking.scorer import Scorer, TrainingData
from ranking.spec import ScorerSpec
from tests.unit.ranking.fakes import small_demo

BUILT: list[RecordingScorer] = []  # every recorder made, the refit's included


class RecordingScorer(Scorer):
    """Remembers the training data and every history it is asked to score."""

    name = "recorder"

    def __init__(self, tag: int = 0) -> None:
        self.tag = tag
        self.data: TrainingData | None = None
        self.histories: list[np.ndarray] = []
        BUILT.append(self)

    def params(self) -> dict[str, int]:
        return {"tag": self.tag}

    def fit(self, data: TrainingData) -> RecordingScorer:
        self.data = data
        self.n_items = data.n_items
        return self

    def _score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        self.histories.extend(np.array(h) for h in histories)
        return np.zeros((len(histories), self.n_items))


def recorded_run(split: Split, refit: bool = True) -> list[RecordingScorer]:
    """Evaluate a two-candidate recorder on the split; returns every scorer it built (the
    grid's two, then the refit of the kept one)."""
    BUILT.clear()

    def factory(seed: int, **params: int) -> Scorer:
        return RecordingScorer(**params)

    spec = ScorerSpec("recorder", factory, "records its inputs", grid=({"tag": 1}, {"tag": 2}))
    evaluate_model(spec, split, seed=0, refit=refit)
    return list(BUILT)


def test_leave_last_out_models_see_only_the_past() -> None:
    demo = small_demo()
    full = demo.sequences()
    split = leave_last_out(demo)
    made = recorded_run(split)
    assert len(made) == 3  # one per grid candidate, each fitted once, and one refit
    for scorer in made[:2]:
        assert scorer.data is split.training
    training = split.training.sequences
    assert split.refit is not None and not split.refit.validation
    for query in split.test:
        sequence = full[query.user]
        assert training[query.user].tolist() == sequence[:-2].tolist()
        assert query.targets[0] not in training[query.user]
        assert query.history.tolist() == sequence[:-1].tolist()
        # the refit sees the validation target, never the test target
        assert split.refit.sequences[query.user].tolist() == sequence[:-1].tolist()
    validation_histories = [full[q.user][:-2].tolist() for q in split.test]
    test_histories = [full[q.user][:-1].tolist() for q in split.test]
    assert [h.tolist() for h in made[1].histories] == validation_histories
    # candidates tie on validation, so the first is kept, refitted (same tag) and tested
    assert [h.tolist() for h in made[0].histories] == validation_histories
    refitted = made[2]
    assert (refitted.tag, refitted.data) == (made[0].tag, split.refit)
    assert [h.tolist() for h in refitted.histories] == test_histories


def test_without_refit_the_tuned_model_ranks_the_test_queries() -> None:
    demo = small_demo()
    full = demo.sequences()
    split = leave_last_out(demo)
    made = recorded_run(split, refit=False)
    assert len(made) == 2
    assert [h.tolist() for h in made[0].histories] == [
        *(full[q.user][:-2].tolist() for q in split.test),
        *(full[q.user][:-1].tolist() for q in split.test),
    ]


def test_no_test_target_is_in_the_training_data() -> None:
    demo = small_demo()
    split = leave_last_out(demo)
    held_out = {(q.user, int(t)) for q in split.test for t in q.targets}
    validation = zip(split.test, split.training.validation, strict=True)  # same user order
    held_out |= {(q.user, target) for q, (_, target) in validation}
    trained = {(u, int(i)) for u, seq in enumerate(split.training.sequences) for i in seq}
    assert not held_out & trained


def test_temporal_models_see_nothing_after_the_cut() -> None:
    demo = small_demo()
    cut = float(np.quantile(demo.timestamps, 0.8))
    split = temporal(demo, cut=cut)
    seen_before_cut = _items_until(demo, cut)
    assert split.refit is not None
    for user, sequence in enumerate(split.training.sequences):
        assert sequence.tolist() == seen_before_cut[user][: len(sequence)]
        assert split.refit.sequences[user].tolist() == seen_before_cut[user]
    for scorer in recorded_run(split):
        for history in scorer.histories:
            assert any(history.tolist() == s[: len(history)] for s in seen_before_cut)
    for query in split.test:
        assert query.history.tolist() == seen_before_cut[query.user]


def _items_until(dataset: Dataset, cut: float) -> list[list[int]]:
    order = dataset.order
    result: list[list[int]] = [[] for _ in range(dataset.n_users)]
    rows = zip(dataset.users[order], dataset.items[order], dataset.timestamps[order], strict=True)
    for u, i, t in rows:
        if t <= cut:
            result[u].append(int(i))
    return result
