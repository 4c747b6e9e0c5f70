"""The sparse signal: BM25 (bm25s) over the same product text the encoder sees.

Exact words matter in shopping ("45L", "Vibram", a brand name) where embeddings blur them;
BM25 catches those. The index scores every product for a query, so a filter is applied as
an exact mask over all scores: no over-fetching, no filtered-out top hits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

TOKEN = re.compile(r"(?u)\b\w\w+\b")


def stem(word: str) -> str:
    """A light English plural stemmer: "backpacks" and "backpack" should match."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _stem_all(words: list[str]) -> list[str]:
    return [stem(word) for word in words]


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    return bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_stem_all, return_ids=False, show_progress=False
    )


class SparseIndex:
    """BM25 scores of every indexed text, in index order."""

    def __init__(self, retriever: bm25s.BM25) -> None:
        self._bm25 = retriever
        self._vocab: dict[str, int] = retriever.vocab_dict

    @classmethod
    def build(cls, texts: Sequence[str]) -> SparseIndex:
        retriever = bm25s.BM25()
        retriever.index(tokenize(texts), show_progress=False)
        return cls(retriever)

    def save(self, folder: Path) -> None:
        self._bm25.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> SparseIndex:
        return cls(bm25s.BM25.load(str(folder), show_progress=False))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score per indexed text; all zeros when no query word is in the index."""
        tokens = [self._vocab[t] for t in tokenize([query])[0] if t in self._vocab]
        if not tokens:
            return np.zeros(self._bm25.scores["num_docs"], dtype=np.float32)
        return self._bm25.get_scores(tokens)
