"""Leave-last-out and temporal splits on logs small enough to check by hand."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.split import SplitError, leave_last_out, make_split, sample_users, temporal
from tests.unit.evaluation.builders import dataset
from tests.unit.ranking.fakes import small_demo

# user 0: items 0,1,2,3 at times 1-4; user 1: 4 then 5 and 6 tied at time 7 (file order
# holds); user 2: two interactions only; rows are shuffled to show that time orders them.
ROWS = [
    (1, 4, 5.0),
    (0, 2, 3.0),
    (0, 0, 1.0),
    (1, 5, 7.0),
    (2, 1, 2.0),
    (0, 1, 2.0),
    (1, 6, 7.0),
    (0, 3, 4.0),
    (2, 3, 9.0),
]


def as_lists(arrays: list[np.ndarray]) -> list[list[int]]:
    return [a.tolist() for a in arrays]


def test_leave_last_out_roles() -> None:
    split = leave_last_out(dataset(ROWS, n_items=7, n_users=3))
    assert split.protocol == "loo"
    assert as_lists(split.training.sequences) == [[0, 1], [4], [1, 3]]  # user 2: training only
    assert [(h.tolist(), t) for h, t in split.training.validation] == [([0, 1], 2), ([4], 5)]
    assert [(q.user, q.history.tolist(), q.targets.tolist()) for q in split.test] == [
        (0, [0, 1, 2], [3]),
        (1, [4, 5], [6]),
    ]


def test_tail_is_by_training_counts() -> None:
    # item 3 is the most popular overall (2 of 9) but has one training interaction
    split = leave_last_out(dataset(ROWS, n_items=7, n_users=3))
    counts = split.training.item_counts()
    assert counts.tolist() == [1, 2, 0, 1, 1, 0, 0]
    # 7 items: the head is round(0.2 × 7) = 1 item, the most popular in training
    assert np.flatnonzero(~split.tail).tolist() == [1]
    assert split.tail_targets() == 2


def test_tail_ties_at_the_boundary_go_by_item_index() -> None:
    rows = [(u, i, float(t)) for u in range(3) for t, i in enumerate([0, 1, 2, 3, 4])]
    split = leave_last_out(dataset(rows, n_items=5, n_users=3))
    # items 0, 1, 2 have equal training counts; one head slot goes to the lowest index
    assert split.tail.tolist() == [False, True, True, True, True]


def test_no_user_with_three_interactions_is_an_error() -> None:
    with pytest.raises(SplitError, match="no user has 3 or more"):
        leave_last_out(dataset([(0, 0, 1.0), (0, 1, 2.0)], n_items=2, n_users=1))


def test_temporal_split_at_a_cut_time() -> None:
    rows = [*ROWS, (1, 4, 8.0), (0, 0, 6.0)]  # repeats after the cut are not new targets
    split = temporal(dataset(rows, n_items=7, n_users=3), cut=4.0)
    assert split.protocol == "temporal"
    # user 0: nothing after the cut but a repeat; user 1: no history; user 2: 1 → 3
    assert [(q.user, q.history.tolist(), q.targets.tolist()) for q in split.test] == [(2, [1], [3])]
    assert as_lists(split.training.sequences) == [[0, 1, 2, 3], [], [1]]
    assert split.training.validation == []  # one pre-cut interaction: nothing to hold out


def test_temporal_targets_are_new_distinct_items_and_validation_is_held_out() -> None:
    rows = [(0, 0, 1.0), (0, 1, 2.0), (0, 2, 3.0), (0, 3, 5.0), (0, 1, 6.0), (0, 3, 7.0)]
    rows += [(1, 4, 1.0), (1, 0, 6.0)]
    split = temporal(dataset(rows, n_items=5, n_users=2), cut=3.0)
    assert [(q.user, q.history.tolist(), q.targets.tolist()) for q in split.test] == [
        (0, [0, 1, 2], [3]),
        (1, [4], [0]),
    ]
    assert [(h.tolist(), t) for h, t in split.training.validation] == [([0, 1], 2)]
    assert as_lists(split.training.sequences) == [[0, 1], [4]]


def test_default_temporal_cut_leaves_a_tenth_of_the_log_after_it() -> None:
    demo = small_demo()
    split = temporal(demo)
    cut = np.quantile(demo.timestamps, 0.9, method="lower")
    after = [i for u, i, t in zip(demo.users, demo.items, demo.timestamps, strict=True) if t > cut]
    assert 0 < sum(len(q.targets) for q in split.test) <= len(after)


def test_make_split_names_protocols() -> None:
    demo = small_demo()
    assert make_split(demo, "loo").protocol == "loo"
    assert make_split(demo, "temporal").protocol == "temporal"
    with pytest.raises(SplitError, match="unknown protocol 'x'"):
        make_split(demo, "x")


def test_sample_users_is_a_seeded_subset() -> None:
    split = leave_last_out(small_demo())
    sample = sample_users(split, 10, seed=1)
    assert len(sample.test) == 10 and len(sample.training.validation) == 10
    users = [q.user for q in sample.test]
    assert set(users) <= {q.user for q in split.test} and users == sorted(users)
    assert users == [q.user for q in sample_users(split, 10, seed=1).test]
    assert sample.training.sequences is split.training.sequences
    assert len(sample_users(split, 10_000, seed=1).test) == len(split.test)
    with pytest.raises(SplitError, match="must be positive"):
        sample_users(split, 0, seed=1)
