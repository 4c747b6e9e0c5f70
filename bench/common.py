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
from core.settings import Settings
from retrieval.encoders import Encoder

RESULTS = Path(__file__).resolve().parent / "results"
CHUNK = 2000
SEED = 7
# One demo catalog tops out near 78k items (titles are unique) and slows down as it fills,
# so large catalogs are made of several seeded 25k catalogs with fresh ids.
ITEMS_PER_SEED = 25_000
LARGEST = 100_000  # every bench catalog is a prefix of this one


def bench_catalog(n_items: int) -> Dataset:
    """The first `n_items` products of one fixed, shuffled large demo catalog (no log, so
    popularity is 0).

    Shuffled so that any prefix spans every category; smaller catalogs are prefixes of
    larger ones, so they share cached vectors.
    """
    products: list[Product] = []
    seed = SEED
    while len(products) < max(n_items, LARGEST):
        config = DemoConfig(seed=seed, items=ITEMS_PER_SEED, users=1)
        products += generate_catalog(config, np.random.default_rng(seed))[0]
        seed += 1
    order = np.random.default_rng(SEED).permutation(len(products))[:n_items]
    products = [
        products[i].model_copy(update={"item_id": f"B{n + 1:06d}"}) for n, i in enumerate(order)
    ]
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


def cached_vectors(
    encoder: Encoder, texts: Sequence[str], folder: Path, compute: bool = True
) -> list[np.ndarray | None]:
    """The encoder's vectors for `texts` chunk by chunk, from the cache or computed and
    cached; with compute=False a chunk that is not cached is None."""
    folder.mkdir(parents=True, exist_ok=True)
    chunks: list[np.ndarray | None] = []
    for start in tqdm(range(0, len(texts), CHUNK), desc="vectors", unit="chunk"):
        part = list(texts[start : start + CHUNK])
        key = hashlib.sha256("\n".join(part).encode()).hexdigest()[:20]
        path = folder / f"{key}.npy"
        if path.is_file():
            chunks.append(np.load(path))
        elif compute:
            vectors = encoder.encode(part)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, vectors)
            tmp.replace(path)
            chunks.append(vectors)
        else:
            chunks.append(None)
    return chunks


def fill_missing(
    chunks: list[np.ndarray | None], products: Sequence[Product], noise: float = 0.05
) -> tuple[np.ndarray, int]:
    """All vectors, a missing one replaced by the real vector of a random product of the
    same demo type plus Gaussian noise (re-normalised); also how many are real.

    Used only when embedding a large catalog would not fit the time at hand: the fill
    keeps the catalog's clusters (type, category), which is what ANN latency depends on.
    """
    dim = next(c.shape[1] for c in chunks if c is not None)
    vectors = np.zeros((len(products), dim), dtype=np.float32)
    real = np.zeros(len(products), dtype=bool)
    for n, chunk in enumerate(chunks):
        if chunk is not None:
            vectors[n * CHUNK : n * CHUNK + len(chunk)] = chunk
            real[n * CHUNK : n * CHUNK + len(chunk)] = True
    types = np.array([str(p.attributes.get("type", "")) for p in products])
    rng = np.random.default_rng(SEED)
    for kind in np.unique(types[~real]):
        donors = np.flatnonzero(real & (types == kind))
        if donors.size == 0:
            donors = np.flatnonzero(real)
        missing = np.flatnonzero(~real & (types == kind))
        picked = vectors[rng.choice(donors, size=missing.size)]
        picked += rng.normal(scale=noise, size=picked.shape).astype(np.float32)
        vectors[missing] = picked / np.linalg.norm(picked, axis=1, keepdims=True)
    return vectors, int(real.sum())


class PrecomputedEncoder(Encoder):
    """Serves known texts from precomputed vectors and encodes any other text (a query)
    with the real encoder, so an ingest can be benchmarked without re-embedding."""

    def __init__(self, encoder: Encoder, texts: Sequence[str], vectors: np.ndarray) -> None:
        self.name = encoder.name
        self.dim = encoder.dim
        self._encoder = encoder
        self._known = dict(zip(texts, vectors, strict=True))

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if all(text in self._known for text in texts):
            rows = [self._known[text] for text in texts]
            return np.asarray(rows, dtype=np.float32).reshape(-1, self.dim)
        return self._encoder.encode(texts, progress)


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
