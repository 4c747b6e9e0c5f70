"""The small retrieval store both suites search: a 300-product demo catalog and the packaged
MiniLM encoder (session-scoped, read-only to tests; a test that changes a store builds its
own), ingested into embedded Chroma by the unit suite and into a Chroma server by the
integration suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.dataset import Dataset
from catalog.demo import DemoConfig, write_demo
from core.settings import Settings
from retrieval.encoders import Encoder, SentenceTransformerEncoder
from retrieval.ingest import ingest
from retrieval.layout import StoreLayout
from retrieval.search import Retriever

SMALL = DemoConfig(items=300, users=100)


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Dataset]:
    """A 300-product demo catalog in the generic format (read-only to tests)."""
    folder = tmp_path_factory.mktemp("small-demo")
    return folder, write_demo(folder, SMALL)


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    return SentenceTransformerEncoder()


def store_settings(home: Path, **store: object) -> Settings:
    return Settings(home=home, store=store)


def ingested(settings: Settings, small_demo: tuple[Path, Dataset], encoder: Encoder) -> Retriever:
    """The small demo ingested into the store that `settings` name, opened for search."""
    folder, dataset = small_demo
    ingest(dataset, settings, StoreLayout.for_data(settings, folder), encoder, progress=False)
    return Retriever.open(settings, folder, encoder)
