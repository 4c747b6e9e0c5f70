"""Each metric on lists small enough to compute by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ranking import metrics
from ranking.metrics import PAD

# Six items; the tail is items 2-5. Two lists of length 3, the second one short.
TAIL = np.array([False, False, True, True, True, True])
LISTS = np.array([[3, 1, 2], [0, 4, PAD]])


def one_each(*items: int) -> list[np.ndarray]:
    return [np.array([i]) for i in items]


def test_accuracy_with_one_target_per_query() -> None:
    targets = one_each(1, 5)  # found at rank 2; not found
    assert metrics.recall(LISTS, targets) == pytest.approx(0.5)
    assert metrics.hit_rate(LISTS, targets) == pytest.approx(0.5)
    assert metrics.ndcg(LISTS, targets) == pytest.approx((1 / math.log2(3)) / 2)
    assert metrics.mrr(LISTS, targets) == pytest.approx(0.25)


def test_accuracy_with_several_targets() -> None:
    lists = np.array([[3, 1, 2]])
    targets = [np.array([1, 2, 9])]  # two of three found, at ranks 2 and 3
    assert metrics.recall(lists, targets) == pytest.approx(2 / 3)
    assert metrics.hit_rate(lists, targets) == 1.0
    dcg = 1 / math.log2(3) + 1 / math.log2(4)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert metrics.ndcg(lists, targets) == pytest.approx(dcg / ideal)
    assert metrics.mrr(lists, targets) == pytest.approx(0.5)


def test_ideal_dcg_is_capped_at_k() -> None:
    lists = np.array([[1, 2]])
    assert metrics.ndcg(lists, [np.array([1, 2, 3, 4])]) == pytest.approx(1.0)
    assert metrics.recall(lists, [np.array([1, 2, 3, 4])]) == pytest.approx(0.5)


def test_a_perfect_list_scores_one() -> None:
    lists = np.array([[4, 0, 1], [2, 3, 5]])
    targets = one_each(4, 2)
    for metric in (metrics.recall, metrics.hit_rate, metrics.ndcg, metrics.mrr):
        assert metric(lists, targets) == pytest.approx(1.0)


def test_padding_never_counts_as_a_hit() -> None:
    lists = np.array([[PAD, PAD]])
    assert metrics.recall(lists, one_each(0)) == 0.0
    assert metrics.coverage(lists, 6) == 0.0
    assert metrics.aplt(lists, TAIL) == 0.0


def test_tail_recall_counts_only_tail_targets() -> None:
    # query 0 finds its tail target 2; query 1 misses 5; head target 1 of query 2 is ignored
    lists = np.array([[3, 1, 2], [0, 4, PAD], [1, 0, 3]])
    assert metrics.tail_recall(lists, one_each(2, 5, 1), TAIL) == pytest.approx(0.5)
    assert metrics.tail_recall(lists, one_each(0, 1, 1), TAIL) == 0.0  # no tail targets


def test_catalog_coverage() -> None:
    assert metrics.coverage(LISTS, 6) == pytest.approx(5 / 6)  # items 0-4 shown
    assert metrics.tail_coverage(LISTS, TAIL) == pytest.approx(3 / 4)  # 2, 3, 4 of 2-5


def test_tail_user_coverage_and_aplt() -> None:
    assert metrics.tail_user_coverage(LISTS, TAIL) == 1.0
    assert metrics.tail_user_coverage(np.array([[0, 1], [2, 0]]), TAIL) == pytest.approx(0.5)
    # list 0: tail 3 and 2 of 3 slots; list 1: tail 4 of its 2 filled slots
    assert metrics.aplt(LISTS, TAIL) == pytest.approx((2 / 3 + 1 / 2) / 2)


def test_gini_of_exposure() -> None:
    # exposure [1, 1, 1, 1, 1, 0]: sorted x = 0,1,1,1,1,1; Σ(2i-n-1)x_i / (n Σx) = 5 / 30
    assert metrics.exposure_gini(LISTS, 6) == pytest.approx(1 / 6)
    assert metrics.exposure_gini(np.array([[0, 1], [2, 3]]), 4) == pytest.approx(0.0)
    assert metrics.exposure_gini(np.array([[0], [0], [0]]), 4) == pytest.approx(0.75)


def test_share_by_decile_orders_items_by_popularity() -> None:
    popularity = np.array([1, 9, 5, 5])  # order 1, 2, 3, 0 (ties by index)
    shown = np.array([4, 0, 1, 3])
    assert metrics.share_by_decile(shown, popularity, bins=2) == pytest.approx([1 / 8, 7 / 8])


def test_evaluate_names_every_metric_at_every_k() -> None:
    lists = np.tile(np.arange(20), (2, 1))
    tail = np.arange(20) >= 4
    result = metrics.evaluate(lists, one_each(1, 15), tail)
    names = [
        "recall", "hit_rate", "ndcg", "mrr", "tail_recall",
        "coverage", "tail_coverage", "tail_user_coverage", "aplt", "gini",
    ]  # fmt: skip
    assert list(result) == [f"{n}@{k}" for n in names for k in (10, 20)]
    assert (result["recall@10"], result["recall@20"]) == (0.5, 1.0)
    assert (result["tail_recall@10"], result["tail_recall@20"]) == (0.0, 1.0)
