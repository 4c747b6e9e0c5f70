"""Hybrid search over embedded Chroma: signals, exact filters and a clear error for each bad
input. The checks that take `retriever` run on a real Chroma server too
(tests/integration/retrieval/test_search_on_server.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from catalog.dataset import Dataset
from catalog.models import Product
from core.filters import FilterError
from core.items import ItemSummary
from core.settings import RetrievalSettings, Settings
from retrieval.encoders import Encoder, product_text
from retrieval.errors import QueryError, StoreError, StoreMismatchError
from retrieval.ingest import ingest
from retrieval.layout import StoreLayout
from retrieval.search import Candidate, Retriever
from tests.support.embedding_server import free_port
from tests.unit.retrieval.conftest import catalog_of

QUERY = "waterproof hiking backpack"


def by_id(dataset: Dataset) -> dict[str, Product]:
    return {p.item_id: p for p in dataset.products}


def test_text_query_fuses_dense_and_sparse(retriever: Retriever) -> None:
    results = retriever.search(QUERY, k=10)
    assert len(results) == 10
    assert len({r.item_id for r in results}) == 10
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    assert all(r.dense is not None or r.sparse is not None for r in results)
    assert any(r.dense is not None and r.sparse is not None for r in results)
    assert "hiking backpack" in results[0].item.title.lower()
    assert retriever.complete


def test_results_carry_the_products_fields(
    retriever: Retriever, small_demo: tuple[Path, Dataset]
) -> None:
    products = by_id(small_demo[1])
    for result in retriever.search("cast iron skillet", k=5):
        product = products[result.item_id]
        assert result.item == ItemSummary.of(product)


def test_a_products_own_vector_finds_it_first(
    retriever: Retriever, small_demo: tuple[Path, Dataset], encoder: Encoder
) -> None:
    product = small_demo[1].products[42]
    vector = encoder.encode([product_text(product)])[0]
    top = retriever.search(vector, k=3)
    assert top[0].item_id == product.item_id
    assert top[0].dense == pytest.approx(1.0, abs=1e-3)
    assert all(r.sparse is None for r in top)


def test_an_exact_brand_word_is_found_by_bm25(retriever: Retriever) -> None:
    results = retriever.search("Copperleaf", k=5)
    assert results[0].item.brand == "Copperleaf"
    assert results[0].sparse is not None


FILTERS = [
    {"max_price": 60},
    {"min_price": 20, "max_price": 80, "categories": ["Outdoor & Hiking"]},
    {"categories": ["kitchen", "Home Office"], "exclude_brands": ["Panfield", "Deskline"]},
    {"brands": ["Northpeak", "Trailwise"]},
    {"min_price": 100},
    {"categories": ["Outdoor & Hiking"], "max_price": 60, "exclude_brands": ["Northpeak"]},
]


@pytest.mark.parametrize("filters", FILTERS)
def test_every_result_satisfies_every_filter(
    retriever: Retriever, small_demo: tuple[Path, Dataset], filters: dict
) -> None:
    dataset = small_demo[1]
    products = by_id(dataset)
    excluded = [r.item_id for r in retriever.search(QUERY, k=5, filters=filters)][:3]
    filters = {**filters, "exclude_ids": excluded}
    results = retriever.search(QUERY, k=50, filters=filters)
    expected = [p for p in dataset.products if _passes(p, filters)]
    assert len(results) == min(50, len(expected)), "filters must not starve the result list"
    for result in results:
        assert _passes(products[result.item_id], filters), result


def _passes(product: Product, filters: dict) -> bool:
    categories = {c.casefold() for c in filters.get("categories", [])}
    price = product.price
    return (
        (not categories or product.category.casefold() in categories)
        and (not filters.get("brands") or product.brand in filters["brands"])
        and product.brand not in filters.get("exclude_brands", [])
        and product.item_id not in filters.get("exclude_ids", [])
        and ("min_price" not in filters or (price is not None and price >= filters["min_price"]))
        and ("max_price" not in filters or (price is not None and price <= filters["max_price"]))
    )


def test_filters_that_match_nothing_give_an_empty_list(retriever: Retriever) -> None:
    assert retriever.search(QUERY, filters={"min_price": 10_000}) == []


@pytest.mark.parametrize(
    ("query", "k", "filters", "error", "message"),
    [
        ("", 10, None, QueryError, "the query is empty"),
        ("   \n\t", 10, None, QueryError, "the query is empty"),
        ("x" * 513, 10, None, QueryError, "limit is 512"),
        (QUERY, 0, None, QueryError, "k must be an integer from 1 to 1000"),
        (QUERY, 5000, None, QueryError, "k must be an integer"),
        (QUERY, 10, {"colour": "red"}, FilterError, "unknown filter field 'colour'"),
        (QUERY, 10, {"min_price": 60, "max_price": 20}, FilterError, "price range is inverted"),
        (QUERY, 10, {"max_price": -1}, FilterError, "greater than or equal to 0"),
        (QUERY, 10, {"categories": ["Kitchn"]}, FilterError, "did you mean 'Kitchen'"),
        (QUERY, 10, {"brands": ["Nobody"]}, FilterError, "no brand 'Nobody'"),
        (QUERY, 10, ["max_price"], FilterError, "filters must be a mapping"),
    ],
)
def test_bad_input_is_a_clear_error(
    retriever: Retriever, query: str, k: int, filters: object, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        retriever.search(query, k=k, filters=filters)  # type: ignore[arg-type]


def test_a_query_vector_of_another_dimension_is_a_mismatch(retriever: Retriever) -> None:
    with pytest.raises(QueryError, match="dimension mismatch"):
        retriever.search(np.ones(768, dtype=np.float32))
    with pytest.raises(QueryError, match="not all zeros"):
        retriever.search(np.zeros(384, dtype=np.float32))


def test_excluding_an_unknown_brand_or_id_is_harmless(retriever: Retriever) -> None:
    plain = retriever.search(QUERY, k=5)
    filtered = retriever.search(QUERY, k=5, filters={"exclude_brands": ["Nobody"]})
    assert [r.item_id for r in filtered] == [r.item_id for r in plain]
    assert len(retriever.search(QUERY, k=5, filters={"exclude_ids": ["no-such-id"]})) == 5


class HashingEncoder(Encoder):
    """A small deterministic encoder of another dimension: a store made with it differs."""

    name = "hashing-8"
    dim = 8

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        rows = [np.random.default_rng(sum(map(ord, t))).normal(size=self.dim) for t in texts]
        vectors = np.asarray(rows, dtype=np.float32).reshape(-1, self.dim)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_a_store_built_with_another_encoder_is_refused(
    tmp_path: Path, small_demo: tuple[Path, Dataset], encoder: Encoder
) -> None:
    folder, dataset = small_demo
    settings = Settings(home=tmp_path)
    layout = StoreLayout.for_data(settings, folder)
    small = catalog_of(dataset.products[:20])
    ingest(small, settings, layout, HashingEncoder(), progress=False)
    with pytest.raises(StoreMismatchError, match="dimension or model mismatch"):
        ingest(small, settings, layout, encoder, progress=False)
    with pytest.raises(StoreMismatchError, match=r"'hashing-8' \(8-d vectors\)"):
        Retriever.open(settings, folder, encoder)
    lazy = Retriever.open(settings, folder)  # builds the configured MiniLM on first text query
    with pytest.raises(StoreMismatchError, match="--rebuild"):
        lazy.search(QUERY)


def test_searching_before_ingest_says_to_ingest(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="run `longtail ingest --data"):
        Retriever.open(Settings(home=tmp_path), tmp_path / "never-ingested")


def test_an_unreachable_chroma_server_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, store={"mode": "server", "port": free_port()})
    with pytest.raises(StoreError, match="cannot reach the Chroma server"):
        Retriever.open(settings, tmp_path)


def test_candidates_serialise_with_the_documented_keys(retriever: Retriever) -> None:
    row = retriever.search(QUERY, k=1)[0].as_dict()
    assert {"item_id", "title", "score", "category", "brand", "price", "dense", "sparse"} <= set(
        row
    )
    assert isinstance(retriever.search(QUERY, k=1)[0], Candidate)


def test_a_narrow_filter_still_fills_the_dense_list(retriever: Retriever, encoder: Encoder) -> None:
    """When the unfiltered top list holds too few allowed products, the dense signal asks
    Chroma for the nearest allowed ids instead of coming back short."""
    shallow = Retriever(
        retriever.store, retriever.snapshot, RetrievalSettings(depth=5), lambda: encoder
    )
    results = shallow.search(QUERY, k=5, filters={"categories": ["Kitchen"]})
    assert len(results) == 5
    assert all(r.item.category == "Kitchen" and r.dense is not None for r in results)
