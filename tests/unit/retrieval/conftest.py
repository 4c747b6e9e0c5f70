"""Fixtures of the retrieval unit tests: the small store in embedded Chroma, the encoder
behind an OpenAI-compatible embeddings server on loopback, catalogs of chosen products.
`small_demo` and `encoder` come from tests/support/retrieval.py (the integration suite
searches the same store on a Chroma server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from catalog.dataset import Dataset
from catalog.models import Product
from retrieval.encoders import Encoder
from retrieval.search import Retriever
from tests.support.embedding_server import embeddings_app, serve
from tests.support.retrieval import ingested, store_settings


@pytest.fixture(scope="session")
def embeddings_url(encoder: Encoder) -> Iterator[str]:
    with serve(embeddings_app(encoder)) as url:
        yield url


def catalog_of(products: list[Product], name: str = "catalog") -> Dataset:
    """A dataset of just these products, without interactions (popularity 0)."""
    return Dataset(
        name=name,
        products=list(products),
        user_ids=[],
        users=np.zeros(0, np.int32),
        items=np.zeros(0, np.int32),
        timestamps=np.zeros(0),
        events=np.zeros(0, np.int8),
    )


@pytest.fixture(scope="session")
def retriever(
    tmp_path_factory: pytest.TempPathFactory,
    small_demo: tuple[Path, Dataset],
    encoder: Encoder,
) -> Retriever:
    """The small demo ingested into an embedded Chroma store."""
    return ingested(store_settings(tmp_path_factory.mktemp("home-embedded")), small_demo, encoder)
