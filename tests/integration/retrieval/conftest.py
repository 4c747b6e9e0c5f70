"""A real `chroma run` on loopback, and the small store of tests/support/retrieval.py
ingested into it: the `retriever` that tests/unit/retrieval's search checks run on here."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from catalog.dataset import Dataset
from retrieval.encoders import Encoder
from retrieval.search import Retriever
from tests.support.embedding_server import free_port
from tests.support.retrieval import ingested, store_settings


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


@pytest.fixture(scope="session")
def retriever(
    tmp_path_factory: pytest.TempPathFactory,
    small_demo: tuple[Path, Dataset],
    encoder: Encoder,
    chroma_server: tuple[str, int],
) -> Retriever:
    """The small demo ingested into the Chroma server."""
    host, port = chroma_server
    settings = store_settings(
        tmp_path_factory.mktemp("home-server"), mode="server", host=host, port=port
    )
    return ingested(settings, small_demo, encoder)
