"""Small stand-ins for heavy parts, so scorer tests run in milliseconds."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pytest

from catalog.dataset import Dataset
from catalog.demo import DemoConfig, generate_demo
from ranking.combiner import Featurised
from ranking.hybrid_features import FEATURES
from retrieval.encoders import Encoder

SMALL_DEMO = DemoConfig(items=150, users=120)


class HashingEncoder(Encoder):
    """Bag of hashed words: texts that share words get similar unit vectors."""

    name = "hashing-test-encoder"
    dim = 32

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        self.calls += 1
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                vectors[row, hashlib.md5(word.encode()).digest()[0] % self.dim] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


def small_demo() -> Dataset:
    return generate_demo(SMALL_DEMO)


def use_hashing_encoder(monkeypatch: pytest.MonkeyPatch) -> HashingEncoder:
    """Make the content scorer encode with a fresh HashingEncoder; returns it."""
    encoder = HashingEncoder()
    monkeypatch.setattr("ranking.content.load_encoder", lambda model: encoder)
    return encoder


def requests_found_by(
    signal: str, n: int = 200, width: int = 15, seed: int = 0
) -> list[Featurised]:
    """Featurised requests whose target is the candidate that `signal` scores highest (every
    other feature noise): what the message and LLM weight fits should learn to follow."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        features = rng.normal(size=(width, len(FEATURES))).astype(np.float32)
        candidates = rng.choice(1000, size=width, replace=False)
        target = int(candidates[features[:, FEATURES.index(signal)].argmax()])
        out.append(Featurised(candidates, features, target))
    return out
