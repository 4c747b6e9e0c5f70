"""The hybrid ranker: tail re-ranking, duplicates, the combiner, and requests end to end."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from catalog.dataset import Dataset
from core.filters import Filters
from core.settings import Settings
from ranking import registry
from ranking.combiner import FIXED_WEIGHTS, Combiner
from ranking.errors import RankingError, RankingUnavailable
from ranking.hybrid import HybridScorer
from ranking.hybrid_features import FEATURES, recent_counts
from ranking.hybrid_ranker import HybridRanker
from ranking.ranker_pool import RankerPool
from ranking.request import RankRequest
from ranking.tail_rerank import suppress_duplicates, tail_order

# ------------------------------------------------------------------ tail re-ranking


def test_tail_knob_moves_tail_items_up_by_the_documented_number_of_places() -> None:
    scores = np.array([5.0, 4.0, 3.0, 2.0])
    tail = np.array([False, False, True, False])
    assert tail_order(scores, tail, 0.0).tolist() == [0, 1, 2, 3]
    assert tail_order(scores, tail, 0.1).tolist() == [0, 2, 1, 3]  # up to 1.1 places
    assert tail_order(scores, tail, 0.2).tolist() == [2, 0, 1, 3]  # up to 2.5 places
    assert tail_order(scores, tail, 1.0).tolist() == [2, 0, 1, 3]


def test_at_knob_one_every_tail_item_comes_first_in_relevance_order() -> None:
    scores = np.arange(10.0)[::-1]
    tail = np.array([i % 3 == 2 for i in range(10)])
    order = tail_order(scores, tail, 1.0)
    assert order[:3].tolist() == [2, 5, 8]
    assert order[3:].tolist() == [0, 1, 3, 4, 6, 7, 9]


def test_a_knob_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match=r"within \[0, 1\]"):
        tail_order(np.zeros(2), np.zeros(2, dtype=bool), 1.5)


def test_near_duplicates_are_moved_behind_the_first_list() -> None:
    vectors = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    assert suppress_duplicates(np.array([0, 1, 2, 3]), vectors, 3, 0.97).tolist() == [0, 2, 3, 1]
    assert suppress_duplicates(np.array([0, 1, 2, 3]), vectors, 3, 1.0).tolist() == [0, 1, 2, 3]


# ----------------------------------------------------------------------- combiner


def _suppress_one_by_one(
    order: np.ndarray, vectors: np.ndarray, keep: int, threshold: float
) -> list[int]:
    """The rule itself, item by item: what the fast path must agree with."""
    chosen: list[int] = []
    deferred: list[int] = []
    for position, index in enumerate(order):
        if len(chosen) >= keep:
            return chosen + deferred + [int(i) for i in order[position:]]
        if chosen and float(np.max(vectors[chosen] @ vectors[index])) >= threshold:
            deferred.append(int(index))
        else:
            chosen.append(int(index))
    return chosen + deferred


def test_duplicate_suppression_agrees_with_the_rule_item_by_item() -> None:
    rng = np.random.default_rng(0)
    for trial in range(400):
        n = int(rng.integers(2, 90))
        vectors = rng.normal(size=(n, 8)).astype(np.float32)
        if trial % 2:  # plant near-duplicates
            for a, b in rng.integers(0, n, size=(int(rng.integers(1, 5)), 2)):
                vectors[a] = vectors[b] + rng.normal(size=8) * 0.01
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        order, keep = rng.permutation(n), int(rng.integers(1, 60))
        expected = _suppress_one_by_one(order, vectors, keep, 0.97)
        assert suppress_duplicates(order, vectors, keep, 0.97).tolist() == expected


def test_the_combiner_learns_which_feature_finds_the_target() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 12, len(FEATURES))).astype(np.float32)
    x[:, :, FEATURES.index("message_z")] = 0.0  # never varies: cannot be learned
    signal = FEATURES.index("intent_z")
    target = x[:, :, signal].argmax(axis=1)
    valid = np.ones((300, 12), dtype=bool)
    combiner = Combiner().fit(x, valid, target)
    weights = dict(zip(FEATURES, combiner.weights, strict=True))
    learned = [w for f, w in weights.items() if f != "intent_z" and f in _learned(combiner)]
    assert weights["intent_z"] > 3 * max(abs(w) for w in learned)
    assert weights["message_z"] == FIXED_WEIGHTS["message_z"]
    assert "message_z" not in _learned(combiner)
    scores = combiner.score(x)
    assert (scores.argmax(axis=1) == target).mean() > 0.9
    parts = combiner.contributions(x[0, 0])
    assert sum(parts.values()) == pytest.approx(float(scores[0, 0]), abs=1e-4)


def _learned(combiner: Combiner) -> set[str]:
    return {f for f, lr in zip(FEATURES, combiner.learned, strict=True) if lr}


def test_an_ablation_drops_its_features_and_candidates() -> None:
    ablation = registry.get("hybrid-no-intent").build(1, **registry.get("hybrid-no-intent").grid[0])
    assert isinstance(ablation, HybridScorer)
    assert "intent" not in ablation.sources
    assert not any(f.startswith("intent_") for f in ablation.active_features())
    assert "intent" not in ablation.needed_components()
    knob_off = registry.get("hybrid-no-tail-rerank")
    assert knob_off.grid == ({"tail_knob": 0.0},)


# ------------------------------------------------------------ served, end to end


# `served`, `hybrid_ranker` and `ranker_pool` (session-scoped) come from this folder's
# conftest.py: the Ranker contract (test_ranker_contract.py) runs on the same store.


@pytest.fixture
def ranker(hybrid_ranker: HybridRanker) -> HybridRanker:
    return hybrid_ranker


def _history(ranker: HybridRanker, n: int = 5) -> tuple[str, ...]:
    dataset: Dataset = ranker.dataset
    sequence = max(dataset.sequences(), key=len)
    return tuple(dataset.item_ids[i] for i in sequence[-n:])


def test_filters_hold_exactly_and_the_history_is_not_suggested(ranker: HybridRanker) -> None:
    history = _history(ranker)
    category = ranker.product(history[-1]).category
    filters = Filters(categories=(category,), max_price=60.0)
    result = ranker.rank(RankRequest(history=history, filters=filters, k=10))
    assert result.items, "a broad category filter leaves candidates"
    for item in result.items:
        assert item.item.category == category
        assert item.item.price is not None and item.item.price <= 60.0
        assert item.item_id not in history
    assert [i.rank for i in result.items] == list(range(1, len(result.items) + 1))


def test_every_item_carries_its_signals_and_sources(ranker: HybridRanker) -> None:
    result = ranker.rank(RankRequest(history=_history(ranker), k=10, tail_knob=0.0))
    assert len(result.items) == 10
    assert {"semantic", "intent", "cf"} <= set(result.sources_used)
    for item in result.items:
        assert item.sources, item
        assert {"semantic", "intent", "cf", "popularity"} <= set(item.contributions)
    scores = [i.score for i in result.items]
    assert scores == sorted(scores, reverse=True)  # knob 0: the combiner's order
    assert result.timings_ms["total_ms"] > 0


def test_the_tail_knob_raises_tail_exposure(ranker: HybridRanker) -> None:
    history = _history(ranker)
    accurate = ranker.rank(RankRequest(history=history, k=10, tail_knob=0.0))
    tail_first = ranker.rank(RankRequest(history=history, k=10, tail_knob=1.0))
    assert sum(i.tail for i in tail_first.items) == 10
    assert sum(i.tail for i in tail_first.items) >= sum(i.tail for i in accurate.items)


def test_a_message_alone_finds_the_product_it_describes(ranker: HybridRanker) -> None:
    product = ranker.dataset.products[123]
    result = ranker.rank(RankRequest(message=product.title, k=10))
    assert product.item_id in [i.item_id for i in result.items]
    assert "sparse" in result.sources_used


def test_an_empty_request_still_ranks(ranker: HybridRanker) -> None:
    assert len(ranker.rank(RankRequest(k=5)).items) == 5


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (RankRequest(history=("no-such-item",)), "unknown item id 'no-such-item'"),
        (RankRequest(k=0), "k must be from 1"),
        (RankRequest(tail_knob=2.0), r"tail_knob must be within \[0, 1\]"),
    ],
)
def test_bad_requests_are_clear_errors(
    ranker: HybridRanker, request_: RankRequest, message: str
) -> None:
    with pytest.raises(RankingError, match=message):
        ranker.rank(request_)


def test_events_must_align_with_the_history(ranker: HybridRanker) -> None:
    history = _history(ranker, 3)
    with pytest.raises(RankingError, match="events has 1 entries but history has 3"):
        ranker.rank(RankRequest(history=history, events=("view",)))
    with pytest.raises(RankingError, match="unknown event 'like'"):
        ranker.rank(RankRequest(history=history[:1], events=("like",)))


def test_the_saved_model_refuses_another_catalog(ranker: HybridRanker, tmp_path: Path) -> None:
    from ranking.scorer import ScorerError

    ranker.scorer.save(tmp_path / "hybrid", fingerprint="other")
    with pytest.raises(ScorerError, match="retrain"):
        HybridScorer.load(tmp_path / "hybrid", fingerprint="mine")


def test_a_model_saved_by_an_older_version_asks_for_a_retrain(
    ranker: HybridRanker, tmp_path: Path
) -> None:
    from core.atomic import current
    from ranking.scorer import ScorerError

    ranker.scorer.save(tmp_path / "hybrid")
    arrays = current(tmp_path / "hybrid") / "arrays.npz"
    with np.load(arrays) as saved:
        older = {k: saved[k] for k in saved.files if k != "recent"}
    older = {k: v[:-3] if k.startswith("combiner.") else v for k, v in older.items()}
    np.savez(arrays, **older)
    with pytest.raises(ScorerError, match=r"older version .* retrain it with `longtail train`"):
        HybridScorer.load(tmp_path / "hybrid")


# ------------------------------------------------------------ ranking worker processes


@pytest.fixture
def pool(ranker_pool: RankerPool) -> RankerPool:
    return ranker_pool


def test_the_pool_ranks_as_the_ranker_does(pool: RankerPool, ranker: HybridRanker) -> None:
    history = _history(ranker)
    requests = [
        RankRequest(history=history, k=10),
        RankRequest(message="a warm sleeping bag", k=10, filters=Filters(max_price=80)),
        RankRequest(history=history, message="something for the kitchen", k=5, tail_knob=0.9),
    ]
    for request in requests:
        pooled, local = pool.rank(request), ranker.rank(request)
        assert [i.item_id for i in pooled.items] == [i.item_id for i in local.items]
        assert [i.contributions for i in pooled.items] == [i.contributions for i in local.items]
    assert pool.dataset is ranker.dataset
    assert pool.product(history[0]) == ranker.product(history[0])


def test_a_workers_error_arrives_as_the_same_error(pool: RankerPool) -> None:
    with pytest.raises(RankingError, match="unknown item id 'no-such-item'"):
        pool.rank(RankRequest(history=("no-such-item",), k=5))


def test_a_dead_worker_is_replaced_and_the_requests_answered(
    pool: RankerPool, ranker: HybridRanker
) -> None:
    """Once a worker has died, requests sent together all get their answer: one of them
    replaces the broken pool and the others retry on the fresh one."""
    request = RankRequest(history=_history(ranker), k=5)
    expected = [i.item_id for i in ranker.rank(request).items]
    before = set(pool._pool._processes)  # the executor's own table of worker pids
    killed = next(iter(before))
    os.kill(killed, signal.SIGKILL)
    # Wait until the executor has seen the death (it reaps the worker as it marks the pool
    # broken); else the other worker may answer all eight before anyone notices.
    for _ in range(600):
        try:
            os.kill(killed, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"worker {killed} was never reaped after SIGKILL")
    with ThreadPoolExecutor(4) as threads:
        results = list(threads.map(lambda _: pool.rank(request), range(8)))
    assert all([i.item_id for i in r.items] == expected for r in results)
    after = set(pool._pool._processes)
    assert len(after) == 2 and not after & before


def test_a_hung_worker_is_killed_and_its_request_refused_as_unavailable(
    served: tuple[Settings, Path], ranker: HybridRanker
) -> None:
    """A frozen worker (SIGSTOP): past `timeout_s` its request raises RankingUnavailable
    (the API's retryable 503), the worker is killed, and a fresh one answers the next."""
    pool = RankerPool(ranker, *served, workers=1, timeout_s=2.0)
    try:
        request = RankRequest(history=_history(ranker), k=5)
        expected = [i.item_id for i in ranker.rank(request).items]
        (hung,) = pool._pool._processes.values()
        os.kill(hung.pid, signal.SIGSTOP)
        with pytest.raises(RankingUnavailable, match="longer than 2 s"):
            pool.rank(request)
        hung.join(timeout=30)
        assert hung.exitcode == -signal.SIGKILL
        assert [i.item_id for i in pool.rank(request).items] == expected
        assert hung.pid not in pool._pool._processes
    finally:
        pool.close()


def test_closing_the_pool_ends_its_processes(
    served: tuple[Settings, Path], ranker: HybridRanker
) -> None:
    pool = RankerPool(ranker, *served, workers=1)
    processes = list(pool._pool._processes.values())
    assert processes and all(p.is_alive() for p in processes)
    pool.close()
    assert not any(p.is_alive() for p in processes)


def test_a_refit_keeps_what_validation_chose_and_twins_share_the_refitted_components(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from evaluation.split import leave_last_out
    from ranking.fitted import forget
    from tests.unit.ranking.fakes import small_demo, use_hashing_encoder

    use_hashing_encoder(monkeypatch)
    forget()
    split = leave_last_out(small_demo())
    quick = {"intent": {"hidden": 32, "max_epochs": 2, "search_budget_s": 0.0}}
    hybrid = HybridScorer(seed=3, components=quick).fit(split.training)
    twin = HybridScorer(seed=3, tail_knob=0.0, components=quick).fit(split.training)
    assert split.refit is not None
    refitted, refitted_twin = hybrid.refit(split.refit), twin.refit(split.refit)
    assert (refitted.tail_knob, refitted.combiner) == (hybrid.tail_knob, hybrid.combiner)
    assert refitted_twin.tail_knob == 0.0
    for name, component in refitted.components.items():
        assert refitted_twin.components[name] is component
        if name != "content":  # item texts do not change with interactions
            assert component is not hybrid.components[name]
    assert refitted._memo is refitted_twin._memo and refitted._memo is not hybrid._memo
    # Popularity is counted on the refit data (validation targets are the latest
    # interactions); the tail set the knob was chosen for stays.
    np.testing.assert_array_equal(refitted.context.popularity, split.refit.item_counts())
    np.testing.assert_array_equal(
        refitted.context.recent, recent_counts(split.refit.sequences, split.refit.n_items)
    )
    assert not np.array_equal(refitted.context.recent, hybrid.context.recent)
    assert refitted.tail is hybrid.tail
