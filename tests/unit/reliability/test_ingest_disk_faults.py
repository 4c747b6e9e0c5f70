"""Item 2, the disk failing under an ingest: full (a file-size limit on the `longtail ingest`
process, so writes fail as on a full disk) or read-only (the store folder made immutable).
Each is a clear error that names the folder, the store that was there still answers, and
the next ingest, once the disk is fine, completes. A killed ingest: tests/unit/retrieval/
test_resume.py."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from catalog.demo import DemoConfig, write_demo
from catalog.loading import load_dataset
from core.settings import Settings
from retrieval.encoders import SentenceTransformerEncoder
from retrieval.errors import StoreError
from retrieval.ingest import ingest
from retrieval.layout import StoreLayout
from retrieval.search import Retriever

SMALL = DemoConfig(items=150, users=30)
CHANGED = DemoConfig(items=150, users=30, seed=99)


def _ingest_cli(data: Path, home: Path, max_file_bytes: int | None = None):
    def limit() -> None:
        if max_file_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

    return subprocess.run(
        [sys.executable, "-m", "longtail", "ingest", "--data", str(data), "--json"],
        env={**os.environ, "LONGTAIL_HOME": str(home)},
        capture_output=True,
        text=True,
        preexec_fn=limit,
        timeout=600,
    )


def test_a_full_disk_is_a_clear_error_and_the_next_ingest_completes(tmp_path: Path) -> None:
    data, home = tmp_path / "shop", tmp_path / "home"
    write_demo(data, SMALL)
    full = _ingest_cli(data, home, max_file_bytes=300_000)
    assert full.returncode == 2, full.stderr
    assert "cannot write the vector store under" in full.stderr
    assert str(home / "stores") in full.stderr and "Traceback" not in full.stderr

    done = _ingest_cli(data, home)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["items"] == 150
    settings = Settings(home=home)
    hits = Retriever.open(settings, data).search("tent", k=5)
    assert len(hits) == 5


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """No writes under `folder`: chmod for a normal user; root ignores modes, so for root
    the immutable attribute (chattr +i), where the file system has it."""
    paths = [folder, *folder.rglob("*")]
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in paths}
        for p in paths:
            p.chmod(modes[p] & ~0o222)
        try:
            yield
        finally:
            for p in paths:
                p.chmod(modes[p])
        return
    locked = subprocess.run(["chattr", "-R", "+i", str(folder)], capture_output=True, text=True)
    if locked.returncode != 0:
        pytest.skip(f"cannot make {folder} read-only as root: {locked.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-R", "-i", str(folder)], check=True)


def test_a_read_only_store_is_a_clear_error_and_stays_intact(tmp_path: Path) -> None:
    data = tmp_path / "shop"
    write_demo(data, SMALL)
    settings = Settings(home=tmp_path / "home")
    layout = StoreLayout.for_data(settings, data)
    encoder = SentenceTransformerEncoder()
    ingest(load_dataset(data), settings, layout, encoder, progress=False)
    before = [c.item_id for c in Retriever.open(settings, data, encoder).search("tent", k=5)]

    write_demo(data, CHANGED)  # a new catalog to ingest, onto a store that cannot change
    changed = load_dataset(data)
    with read_only(layout.folder), pytest.raises(StoreError) as error:
        ingest(changed, settings, layout, encoder, progress=False)
    assert str(layout.folder) in str(error.value) and "writable" in str(error.value)

    intact = Retriever.open(settings, data, encoder)
    assert [c.item_id for c in intact.search("tent", k=5)] == before  # the old store answers
    report = ingest(changed, settings, layout, encoder, progress=False)
    assert report.items == 150
    after = Retriever.open(settings, data, encoder)
    assert after.complete and len(after.search("tent", k=5)) == 5
