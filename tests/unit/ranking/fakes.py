"""Small stand-ins for heavy parts, so scorer tests run in milliseconds."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pytest

from catalog.dataset import Dataset
from catalog.demo import DemoConfig, generate_demo
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
