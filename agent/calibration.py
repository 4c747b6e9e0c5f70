"""Calibrate "close to what you described" on the catalog itself, never on test data.

For a seeded sample of the catalog's product kinds, each kind's words are embedded as a
request and compared with a seeded sample of products; a pair is a true match when the
product is of that kind (`Vocabulary.matches`). The threshold is the lowest similarity above
which at least `PRECISION` of the pairs are true matches: below it, "close to what you
described" would too often be false, so the explanation does not say it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from agent.vocabulary import Vocabulary
from catalog.dataset import Dataset
from catalog.models import Product
from core.settings import Settings
from retrieval.encoders import Encoder, product_text

PRECISION = 0.8
SAMPLE_KINDS = 200
SAMPLE_PRODUCTS = 1500
MIN_PAIRS_ABOVE = 20  # a threshold must be backed by at least this many true-match pairs


def calibrate_similarity(
    vocabulary: Vocabulary,
    products: list[Product],
    encoder: Encoder,
    template: str | None = None,
    seed: int = 7,
) -> float | None:
    """The calibrated similarity threshold, or None when the catalog gives too few pairs."""
    rng = np.random.default_rng(seed)
    names = sorted(k for k, n in vocabulary.kinds.items() if n >= 2)
    if not names or not products:
        return None
    # Kinds as shoppers meet them: the more products of a kind, the likelier it is named.
    weights = np.array([vocabulary.kinds[k] for k in names], dtype=np.float64)
    size = min(SAMPLE_KINDS, len(names))
    chosen = rng.choice(len(names), size=size, replace=False, p=weights / weights.sum())
    kinds = [names[i] for i in sorted(chosen)]
    picked = [products[i] for i in rng.permutation(len(products))[:SAMPLE_PRODUCTS]]
    texts = [product_text(p, template) if template else product_text(p) for p in picked]
    items = np.asarray(encoder.encode(texts), dtype=np.float32)
    queries = np.asarray(encoder.encode(kinds), dtype=np.float32)
    similarity = (queries @ items.T).ravel()
    truth = np.array([vocabulary.matches_all(picked, k) for k in kinds]).ravel()
    order = np.argsort(-similarity, kind="stable")
    hits = np.cumsum(truth[order])
    precision = hits / np.arange(1, len(order) + 1)
    good = np.flatnonzero((precision >= PRECISION) & (hits >= MIN_PAIRS_ABOVE))
    if not len(good):
        return None
    return round(float(similarity[order[good[-1]]]), 4)


def save_vocabulary(dataset: Dataset, encoder: Encoder, folder: Path, settings: Settings) -> Path:
    """Derive the catalog's vocabulary, calibrate its similarity threshold, store it with
    the catalog's vector store (what `longtail ingest` runs; the agent loads it)."""
    vocabulary = Vocabulary.from_products(dataset.products)
    threshold = calibrate_similarity(
        vocabulary, dataset.products, encoder, settings.encoder.template, settings.seed
    )
    vocabulary = replace(vocabulary, similarity_threshold=threshold)
    return vocabulary.save(folder, dataset.fingerprint())
