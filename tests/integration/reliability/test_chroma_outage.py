"""Item 2, the Chroma server going down and coming back, with a real `chroma run` on loopback
and the real hybrid ranker (trained for one epoch on a small demo) behind the API.

While it is down: text search answers from BM25 alone and says why; /v1/recommend with a
message is a 503 that names the server (without one it needs no store and still answers);
chat answers that it cannot search now. When it is back, the same objects answer as before:
no restart."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.web import create_app
from catalog.demo import DemoConfig, write_demo
from catalog.loading import load_dataset
from core.settings import Settings
from longtail.prepare import train_models
from retrieval.encoders import SentenceTransformerEncoder
from retrieval.ingest import ingest
from retrieval.layout import StoreLayout
from runtime.container import Runtime
from tests.support.embedding_server import free_port

pytestmark = pytest.mark.chroma_server


class ChromaServer:
    """`chroma run` on one loopback port and folder that can be stopped and started again."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        chroma = Path(sys.executable).with_name("chroma")
        if not chroma.is_file():
            pytest.skip(f"the chroma CLI is not installed beside {sys.executable}")
        where = ["--path", str(self.folder), "--host", "127.0.0.1", "--port", str(self.port)]
        self.process = subprocess.Popen(
            [str(chroma), "run", *where],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(300):
            assert self.process.poll() is None, "chroma run exited"
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/api/v2/heartbeat").is_success:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError("chroma run did not answer")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ChromaServer, Runtime]]:
    root = tmp_path_factory.mktemp("chroma-outage")
    server = ChromaServer(root / "chroma")
    server.start()
    try:
        write_demo(root / "shop", DemoConfig(items=200, users=60))
        dataset = load_dataset(root / "shop")
        settings = Settings(
            home=root / "home", store={"mode": "server", "port": server.port}, api={}
        )
        layout = StoreLayout.for_data(settings, root / "shop")
        ingest(dataset, settings, layout, SentenceTransformerEncoder(), progress=False)
        train_models(settings, dataset, ["hybrid"], max_epochs=1)
        rt = Runtime.open(settings, root / "shop", llm_config=None)
        yield server, rt
        rt.events.close()
    finally:
        server.stop()


def test_search_and_recommend_survive_a_chroma_restart(
    served: tuple[ChromaServer, Runtime],
) -> None:
    server, rt = served
    client = TestClient(create_app(rt, screens=False))
    retriever = rt.agent.services.search
    body = {"message": "a warm sleeping bag", "k": 5}
    before = client.post("/v1/recommend", json=body)
    assert before.status_code == 200, before.text
    dense_before = [c.dense for c in retriever.search("sleeping bag", k=5)]
    assert any(d is not None for d in dense_before) and retriever.unavailable == ""

    server.stop()
    down = client.post("/v1/recommend", json=body)
    assert down.status_code == 503 and down.headers["retry-after"]
    assert f"127.0.0.1:{server.port}" in down.json()["detail"]
    assert client.post("/v1/recommend", json={"k": 5}).status_code == 200  # no store needed
    reduced = retriever.search("sleeping bag", k=5)
    assert reduced and all(c.dense is None and c.sparse is not None for c in reduced)
    assert "did not answer" in retriever.unavailable
    chat = client.post("/v1/chat", json={"message": "a sleeping bag"})
    assert chat.status_code == 200  # says why it has nothing, not "try other words"
    assert chat.json()["answer"].startswith("I cannot search the catalog right now.")

    server.start()
    after = client.post("/v1/recommend", json=body)
    assert after.status_code == 200, after.text
    assert [i["item_id"] for i in after.json()["items"]] == [
        i["item_id"] for i in before.json()["items"]
    ]
    assert [c.dense for c in retriever.search("sleeping bag", k=5)] == dense_before
    assert retriever.unavailable == ""
