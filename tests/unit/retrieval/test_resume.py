"""An ingest killed with SIGKILL half-way leaves a store that answers correctly, and the
next run embeds only what is missing."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from catalog.dataset import Dataset
from core.settings import Settings
from retrieval.encoders import Encoder
from retrieval.ingest import ingest
from retrieval.layout import StoreLayout
from retrieval.search import Retriever

BATCH = 16


def kill_mid_way(command: list[str], env: dict[str, str], total: int) -> int:
    """Run an ingest, SIGKILL it once its progress bar shows 3 batches done; the count seen."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen = bytearray()
    reader = threading.Thread(target=lambda: _drain(process, seen), daemon=True)
    reader.start()
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline and process.poll() is None:
            done = [int(n) for n in re.findall(rb"(\d+)/%d" % total, bytes(seen))]
            if done and 3 * BATCH <= max(done) < total:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                return max(done)
            time.sleep(0.05)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    pytest.fail(f"the ingest ended before it could be killed: {bytes(seen)[-500:]!r}")


def _drain(process: subprocess.Popen, seen: bytearray) -> None:
    assert process.stderr is not None
    while chunk := process.stderr.read1(4096):
        seen.extend(chunk)


def test_an_ingest_killed_half_way_still_answers_and_then_resumes(
    tmp_path: Path, small_demo: tuple[Path, Dataset], encoder: Encoder
) -> None:
    folder, dataset = small_demo
    env = {
        **os.environ,
        "LONGTAIL_HOME": str(tmp_path),
        "LONGTAIL_STORE__BATCH_SIZE": str(BATCH),
    }
    command = [sys.executable, "-m", "longtail", "ingest", "--data", str(folder)]
    shown = kill_mid_way(command, env, total=dataset.n_items)

    settings = Settings(home=tmp_path)
    retriever = Retriever.open(settings, folder, encoder)
    stored = retriever.store.count()
    assert shown <= stored < dataset.n_items
    assert not retriever.complete
    products = {p.item_id: p for p in dataset.products}
    results = retriever.search("hiking backpack", k=20, filters={"max_price": 100})
    assert results
    for result in results:
        assert products[result.item_id].price is not None
        assert products[result.item_id].price <= 100
        assert result.item.title == products[result.item_id].title

    layout = StoreLayout.for_data(settings, folder)
    report = ingest(dataset, settings, layout, encoder, progress=False)
    assert (report.added, report.embedded, report.unchanged) == (
        dataset.n_items - stored,
        dataset.n_items - stored,
        stored,
    )
    resumed = Retriever.open(settings, folder, encoder)
    assert resumed.complete
    assert resumed.store.count() == dataset.n_items
