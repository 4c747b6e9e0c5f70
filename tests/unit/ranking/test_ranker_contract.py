"""The contract every `Ranker` (agent.services) keeps: the production HybridRanker, the
RankerPool that serves it from worker processes, and the OverlapRanker fake that the agent,
API and screen tests rank with. The same checks run on each, so the fake cannot drift from
what the agent gets in production."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.services import Ranker
from catalog.dataset import Dataset
from catalog.loading import load_dataset
from core.filters import FilterError, Filters
from core.items import ItemSummary
from core.settings import Settings
from ranking.errors import RankingError
from ranking.hybrid_ranker import MAX_K
from ranking.request import SOURCES, RankedItem, RankRequest, RankResult
from tests.support.fakes import OverlapRanker


@pytest.fixture(scope="session")
def overlap_ranker(served: tuple[Settings, Path]) -> OverlapRanker:
    """The fake over the same catalog as the hybrid ranker, so every check has the same data."""
    return OverlapRanker(load_dataset(served[1]))


@pytest.fixture(params=["hybrid_ranker", "ranker_pool", "overlap_ranker"])
def ranker(request: pytest.FixtureRequest) -> Ranker:
    return request.getfixturevalue(request.param)


def _history(dataset: Dataset, n: int = 4) -> tuple[str, ...]:
    sequence = max(dataset.sequences(), key=len)
    return tuple(dataset.item_ids[i] for i in sequence[-n:])


def _check_items(ranker: Ranker, result: RankResult, k: int) -> list[RankedItem]:
    """What every answer holds: at most k catalog products, ranked 1..n, each once, with the
    product's own title, category, brand and price."""
    assert isinstance(result, RankResult)
    items = result.items
    assert len(items) <= k
    assert [item.rank for item in items] == list(range(1, len(items) + 1))
    assert len({item.item_id for item in items}) == len(items)
    assert result.candidates >= len(items)
    assert 0.0 <= result.tail_knob <= 1.0
    assert set(result.sources_used) <= set(SOURCES)
    for item in items:
        product = ranker.product(item.item_id)
        assert item.item == ItemSummary.of(product)
        assert item.popularity >= 0 and isinstance(item.tail, bool)
        assert set(item.sources) <= set(SOURCES), item.sources
    return items


def test_the_dataset_and_product_agree(ranker: Ranker) -> None:
    dataset = ranker.dataset
    assert isinstance(dataset, Dataset) and dataset.n_items > 0
    for index in (0, dataset.n_items // 2, dataset.n_items - 1):
        assert ranker.product(dataset.item_ids[index]) == dataset.products[index]


def test_an_unknown_product_is_a_ranking_error_naming_it(ranker: Ranker) -> None:
    with pytest.raises(RankingError, match="no-such-item"):
        ranker.product("no-such-item")


@pytest.mark.parametrize("k", [1, 5, 10])
def test_an_empty_request_ranks_k_catalog_products(ranker: Ranker, k: int) -> None:
    assert len(_check_items(ranker, ranker.rank(RankRequest(k=k)), k)) == k


def test_a_history_and_a_message_rank_and_the_history_is_not_suggested(ranker: Ranker) -> None:
    history = _history(ranker.dataset)
    message = ranker.product(history[-1]).title
    items = _check_items(ranker, ranker.rank(RankRequest(history=history, message=message)), 10)
    assert len(items) == 10
    assert not {item.item_id for item in items} & set(history)


def test_filters_hold_exactly(ranker: Ranker) -> None:
    dataset = ranker.dataset
    priced = [p for p in dataset.products if p.price is not None]
    product = priced[len(priced) // 2]
    cases = [
        (Filters(categories=(product.category,)), lambda p: p.category == product.category),
        (Filters(brands=(product.brand,)), lambda p: p.brand == product.brand),
        (Filters(exclude_brands=(product.brand,)), lambda p: p.brand != product.brand),
        (Filters(exclude_ids=(product.item_id,)), lambda p: p.item_id != product.item_id),
        (
            Filters(min_price=10.0, max_price=40.0),
            lambda p: p.price is not None and 10.0 <= p.price <= 40.0,
        ),
    ]
    for filters, holds in cases:
        for message in ("", product.title):
            result = ranker.rank(RankRequest(message=message, filters=filters, k=10))
            items = _check_items(ranker, result, 10)
            assert items, f"{filters} leaves candidates in this catalog"
            assert all(holds(ranker.product(item.item_id)) for item in items), filters


def test_a_filter_that_matches_nothing_gives_no_items(ranker: Ranker) -> None:
    highest = max(p.price for p in ranker.dataset.products if p.price is not None)
    filters = Filters(min_price=highest + 1)
    assert ranker.rank(RankRequest(message="anything", filters=filters)).items == []


def test_names_match_without_case_and_an_unknown_one_to_include_is_a_filter_error(
    ranker: Ranker,
) -> None:
    product = ranker.product(_history(ranker.dataset)[-1])
    exact = Filters(categories=(product.category,), brands=(product.brand,))
    shouted = Filters(categories=(product.category.upper(),), brands=(product.brand.upper(),))
    ids = [[i.item_id for i in ranker.rank(RankRequest(filters=f)).items] for f in (exact, shouted)]
    assert ids[0] and ids[0] == ids[1]
    unknown = [(Filters(brands=("NoSuchBrand",)), "NoSuchBrand")]
    unknown += [(Filters(categories=("Nowhere",)), "Nowhere")]
    for filters, name in unknown:
        with pytest.raises(FilterError, match=name):
            ranker.rank(RankRequest(filters=filters))
    harmless = Filters(exclude_brands=("NoSuchBrand",), exclude_ids=("no-such-item",))
    assert len(ranker.rank(RankRequest(filters=harmless, k=5)).items) == 5


def test_tail_flags_follow_popularity(ranker: Ranker) -> None:
    """Tail items are never more popular than head items (ties broken by index). How far
    the tail knob moves them up is the hybrid ranker's own test; the fake does not re-rank."""
    items = ranker.rank(RankRequest(history=_history(ranker.dataset), k=MAX_K)).items
    tail = [item.popularity for item in items if item.tail]
    head = [item.popularity for item in items if not item.tail]
    assert tail and head, "a third of the catalog holds tail and head items"
    assert max(tail) <= min(head)


def test_an_explicit_tail_knob_is_used_as_given(ranker: Ranker) -> None:
    assert ranker.rank(RankRequest(tail_knob=0.4, k=3)).tail_knob == 0.4


def test_the_same_request_gets_the_same_answer(ranker: Ranker) -> None:
    request = RankRequest(history=_history(ranker.dataset), message="something for the desk")
    first, second = ranker.rank(request), ranker.rank(request)
    assert [i.item_id for i in first.items] == [i.item_id for i in second.items]


def test_the_result_serialises_to_json(ranker: Ranker) -> None:
    result = ranker.rank(RankRequest(history=_history(ranker.dataset), message="a gift"))
    decoded = json.loads(json.dumps(result.as_dict()))
    assert [item["item_id"] for item in decoded["items"]] == [i.item_id for i in result.items]


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (RankRequest(history=("no-such-item",)), "unknown item id 'no-such-item'"),
        (RankRequest(k=0), "k must be from 1"),
        (RankRequest(k=MAX_K + 1), "k must be from 1"),
        (RankRequest(tail_knob=2.0), r"tail_knob must be within \[0, 1\]"),
        (RankRequest(tail_knob=-0.1), r"tail_knob must be within \[0, 1\]"),
    ],
)
def test_bad_requests_are_ranking_errors_that_say_why(
    ranker: Ranker, request_: RankRequest, message: str
) -> None:
    with pytest.raises(RankingError, match=message):
        ranker.rank(request_)


def test_events_must_align_with_the_history(ranker: Ranker) -> None:
    history = _history(ranker.dataset, 3)
    with pytest.raises(RankingError, match="events has 1 entries but history has 3"):
        ranker.rank(RankRequest(history=history, events=("view",)))
