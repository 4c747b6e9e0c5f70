"""What the benchmarks share: synthetic catalogs of a given size and a disk cache of vectors.

Embedding 100k product texts takes a quarter of an hour or more on 2 CPU cores, so vectors
are cached under `$LONGTAIL_HOME/cache/bench/<encoder>/`, one .npy per chunk of texts,
keyed by the hash of the chunk's texts: an interrupted run resumes and a changed text
only re-embeds its chunk.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from catalog.dataset import Dataset
from catalog.demo import DemoConfig, generate_catalog
from catalog.models import Product
from longtail.settings import Settings
from retrieval.encoders import Encoder

RESULTS = Path(__file__).resolve().parent / "results"
CHUNK = 2000
SEED = 7
# One demo catalog tops out near 78k items (titles are unique) and slows down as it fills,
# so large catalogs are made of several seeded 25k catalogs with fresh ids.
ITEMS_PER_SEED = 25_000


def bench_catalog(n_items: int) -> Dataset:
    """The first `n_items` products of one fixed large demo catalog (no log: popularity 0).

    Smaller catalogs are prefixes of larger ones, so they share cached vectors.
    """
    products: list[Product] = []
    seed = SEED
    while len(products) < n_items:
        config = DemoConfig(seed=seed, items=ITEMS_PER_SEED, users=1)
        batch, _ = generate_catalog(config, np.random.default_rng(seed))
        for product in batch[: n_items - len(products)]:
            products.append(product.model_copy(update={"item_id": f"B{len(products) + 1:06d}"}))
        seed += 1
    empty = np.zeros(0)
    return Dataset(
        name=f"bench-{n_items}",
        products=products,
        user_ids=[],
        users=empty.astype(np.int32),
        items=empty.astype(np.int32),
        timestamps=empty,
        events=empty.astype(np.int8),
    )


def cache_dir(settings: Settings, encoder: Encoder) -> Path:
    return settings.home / "cache" / "bench" / encoder.name.replace("/", "_")


def cached_vectors(encoder: Encoder, texts: Sequence[str], folder: Path) -> np.ndarray:
    """The encoder's vectors for `texts`, from the chunk cache or computed and cached."""
    folder.mkdir(parents=True, exist_ok=True)
    chunks = []
    for start in tqdm(range(0, len(texts), CHUNK), desc="vectors", unit="chunk"):
        part = list(texts[start : start + CHUNK])
        key = hashlib.sha256("\n".join(part).encode()).hexdigest()[:20]
        path = folder / f"{key}.npy"
        if path.is_file():
            chunks.append(np.load(path))
            continue
        vectors = encoder.encode(part)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(path)
        chunks.append(vectors)
    return np.vstack(chunks) if chunks else np.zeros((0, encoder.dim), dtype=np.float32)


def write_result(name: str, payload: dict) -> Path:
    """Write bench/results/<name>.json with the machine and time of the run."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {
        "bench": name,
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": _cpus(), "python": platform.python_version()},
        **payload,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))
