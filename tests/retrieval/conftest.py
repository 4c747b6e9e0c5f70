"""Shared, expensive fixtures of the retrieval tests: a small catalog, the encoder, servers.

Stores built here are session-scoped and read-only to the tests that share them; a test
that changes a store builds its own.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from catalog.dataset import Dataset
from catalog.demo import DemoConfig, write_demo
from catalog.models import Product
from core.settings import Settings
from retrieval.encoders import Encoder, SentenceTransformerEncoder
from retrieval.ingest import ingest
from retrieval.layout import StoreLayout
from retrieval.search import Retriever
from tests.retrieval.embedding_server import embeddings_app, free_port, serve

SMALL = DemoConfig(items=300, users=100)


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Dataset]:
    """A 300-product demo catalog in the generic format (read-only to tests)."""
    folder = tmp_path_factory.mktemp("small-demo")
    return folder, write_demo(folder, SMALL)


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    return SentenceTransformerEncoder()


@pytest.fixture(scope="session")
def embeddings_url(encoder: Encoder) -> Iterator[str]:
    with serve(embeddings_app(encoder)) as url:
        yield url


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A real `chroma run` on a free loopback port, stopped at the end of the session."""
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.is_file():
        pytest.skip(f"the chroma CLI is not installed beside {sys.executable}")
    port = free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    process = subprocess.Popen(
        [str(chroma), "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_heartbeat(port, process)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_heartbeat(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chroma run exited with status {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("chroma run did not answer within 60 s")


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


def store_settings(home: Path, **store: object) -> Settings:
    return Settings(home=home, store=store)


@pytest.fixture(
    scope="session", params=["embedded", pytest.param("server", marks=pytest.mark.chroma_server)]
)
def retriever(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    small_demo: tuple[Path, Dataset],
    encoder: Encoder,
) -> Retriever:
    """The small demo ingested into an embedded Chroma store and into a Chroma server."""
    folder, dataset = small_demo
    home = tmp_path_factory.mktemp(f"home-{request.param}")
    if request.param == "server":
        host, port = request.getfixturevalue("chroma_server")
        settings = store_settings(home, mode="server", host=host, port=port)
    else:
        settings = store_settings(home)
    ingest(dataset, settings, StoreLayout.for_data(settings, folder), encoder, progress=False)
    return Retriever.open(settings, folder, encoder)
