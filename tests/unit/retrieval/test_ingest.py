"""Incremental ingest: only new or changed text is embedded, field changes are rewritten,
removed products are deleted, and a rerun does nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.dataset import Dataset
from core.settings import Settings
from retrieval.chroma_store import ChromaStore
from retrieval.encoders import Encoder
from retrieval.ingest import IngestReport, ingest
from retrieval.layout import StoreLayout
from retrieval.search import Retriever
from tests.unit.retrieval.conftest import catalog_of


def counts(report: IngestReport) -> tuple[int, int, int, int, int]:
    return report.added, report.updated, report.deleted, report.unchanged, report.embedded


@pytest.fixture
def store(tmp_path: Path) -> tuple[Settings, StoreLayout]:
    settings = Settings(home=tmp_path, store={"batch_size": 16})
    return settings, StoreLayout.for_data(settings, tmp_path / "catalog")


def test_ingest_is_incremental_and_idempotent(
    store: tuple[Settings, StoreLayout], small_demo: tuple[Path, Dataset], encoder: Encoder
) -> None:
    settings, layout = store
    products = small_demo[1].products[:40]
    first = ingest(catalog_of(products), settings, layout, encoder, progress=False)
    assert counts(first) == (40, 0, 0, 0, 40)
    again = ingest(catalog_of(products), settings, layout, encoder, progress=False)
    assert counts(again) == (0, 0, 0, 40, 0)

    retitled = products[0].model_copy(update={"title": "Stormproof Alpine Rucksack, 50L"})
    repriced = products[1].model_copy(update={"price": 1234.5})
    unpriced = products[2].model_copy(update={"price": None})
    added = small_demo[1].products[100]
    changed = [retitled, repriced, unpriced, *products[4:], added]  # products[3] removed
    report = ingest(catalog_of(changed), settings, layout, encoder, progress=False)
    assert counts(report) == (1, 3, 1, 36, 2)
    assert ingest(catalog_of(changed), settings, layout, encoder, progress=False).embedded == 0

    retriever = Retriever.open(settings, layout.data_dir, encoder)
    assert retriever.store.count() == 40
    assert retriever.search("stormproof alpine rucksack", k=1)[0].item_id == retitled.item_id
    expensive = retriever.search(repriced.title, k=5, filters={"min_price": 1000})
    assert [r.item_id for r in expensive] == [repriced.item_id]
    assert [r.item.price for r in expensive] == [1234.5]
    priced = retriever.search(unpriced.title, k=40, filters={"min_price": 0})
    assert unpriced.item_id not in {r.item_id for r in priced}
    everything = retriever.search(products[3].title, k=40)
    assert products[3].item_id not in {r.item_id for r in everything}


def test_a_new_text_template_re_embeds_everything(
    store: tuple[Settings, StoreLayout], small_demo: tuple[Path, Dataset], encoder: Encoder
) -> None:
    settings, layout = store
    catalog = catalog_of(small_demo[1].products[:12])
    ingest(catalog, settings, layout, encoder, progress=False)
    titles_only = settings.model_copy(
        update={"encoder": settings.encoder.model_copy(update={"template": "{title}"})}
    )
    assert counts(ingest(catalog, titles_only, layout, encoder, progress=False)) == (
        0,
        12,
        0,
        0,
        12,
    )


def test_the_store_records_its_encoder_and_the_finished_snapshot(
    store: tuple[Settings, StoreLayout], small_demo: tuple[Path, Dataset], encoder: Encoder
) -> None:
    settings, layout = store
    ingest(catalog_of(small_demo[1].products[:5]), settings, layout, encoder, progress=False)
    chroma = ChromaStore.open(settings.store, layout)
    assert (chroma.encoder_name, chroma.dim, chroma.count()) == ("all-MiniLM-L6-v2", 384, 5)
    stored = chroma.stored()
    assert set(stored) == {p.item_id for p in small_demo[1].products[:5]}
    content_hash, fields = next(iter(stored.values()))
    assert len(content_hash) == 16
    assert {"category", "brand", "price", "popularity"} <= set(fields)
    assert Retriever.open(settings, layout.data_dir, encoder).complete
