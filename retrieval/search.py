"""Hybrid search: dense (Chroma) and sparse (BM25) candidates, fused by weighted RRF.

Both signals apply the same filters exactly. The catalog snapshot turns the filters into
a mask over all products; BM25 scores every product and keeps the masked ones, and
Chroma is asked, by cost, either for an over-fetched unfiltered top list that is then
masked (broad filters), or for the nearest among the allowed ids (narrow filters).
Chroma's own metadata `where` filter is exact too, but a SQLite scan that costs 90-340 ms
at 100k products here; it is used only while an interrupted ingest has left vectors
missing, since an id restriction must name stored ids. Every hit is checked against the
snapshot, which is what the result rows show, so each result satisfies each filter.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.filters import Filters
from core.items import ItemSummary, flat
from core.settings import RetrievalSettings, Settings
from retrieval.chroma_store import ChromaStore
from retrieval.encoder_factory import build_encoder
from retrieval.encoders import Encoder
from retrieval.errors import QueryError, StoreUnavailable
from retrieval.fusion import reciprocal_rank_fusion
from retrieval.layout import StoreLayout
from retrieval.snapshot import CatalogSnapshot, load_snapshot
from retrieval.vector_store import VectorStore

log = logging.getLogger("longtail.retrieval")

MAX_K = 1000
OVERFETCH = 2.0  # unfiltered hits fetched per wanted hit, over the filter's pass rate
MAX_FETCH = 1000  # above this an id-restricted query is cheaper (~8 ms vs ~16 ms at 100k)


@dataclass(frozen=True)
class Candidate:
    """One search result with the evidence of each signal (None: the signal missed it)."""

    item: ItemSummary
    popularity: int
    score: float  # the fused RRF score
    dense: float | None  # cosine similarity
    sparse: float | None  # BM25 score
    dense_rank: int | None
    sparse_rank: int | None

    @property
    def item_id(self) -> str:
        return self.item.item_id

    def as_dict(self) -> dict[str, Any]:
        """Flat, as `longtail search --json` prints it: the summary's keys, then the evidence."""
        return flat(self)


class Retriever:
    """Search one dataset's store."""

    def __init__(
        self,
        store: VectorStore,
        snapshot: CatalogSnapshot,
        settings: RetrievalSettings,
        make_encoder: Callable[[], Encoder],
    ) -> None:
        self.store = store
        self.snapshot = snapshot
        self.settings = settings
        self._make_encoder = make_encoder
        self._encoder: Encoder | None = None
        self.unavailable = ""  # why the last text search ran without the vector store

    @classmethod
    def open(cls, settings: Settings, data_dir: Path, encoder: Encoder | None = None) -> Retriever:
        """The retriever of a dataset that has been ingested; a missing store or one built
        with another encoder is an error here, before any query."""
        layout = StoreLayout.for_data(settings, data_dir)
        store = ChromaStore.open(settings.store, layout)
        snapshot = load_snapshot(layout.snapshots_dir)
        if encoder is not None:
            store.check_encoder(encoder.name, encoder.dim)
            return cls(store, snapshot, settings.retrieval, lambda: encoder)
        return cls(store, snapshot, settings.retrieval, lambda: build_encoder(settings.encoder))

    @property
    def complete(self) -> bool:
        """False while an interrupted ingest has left the store behind the snapshot."""
        return self.store.synced_digest() == self.snapshot.digest

    @property
    def encoder(self) -> Encoder:
        """Built on first use: vector queries and bad filters need no model load."""
        if self._encoder is None:
            encoder = self._make_encoder()
            self.store.check_encoder(encoder.name, encoder.dim)
            self._encoder = encoder
        return self._encoder

    def search(
        self,
        query: str | np.ndarray,
        k: int = 10,
        filters: Filters | Mapping[str, Any] | None = None,
    ) -> list[Candidate]:
        """The k best products for a text or a query vector (a vector uses the dense
        signal only), each passing every filter."""
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise QueryError(f"k must be an integer from 1 to {MAX_K}, got {k!r}")
        resolved = self.snapshot.resolve(Filters.parse(filters))
        allowed = self.snapshot.mask(resolved)
        depth = max(self.settings.depth, k)
        # Per signal: snapshot position → score, best first.
        signals: dict[str, dict[int, float]] = {}
        if isinstance(query, str):
            text = self._check_text(query)
            if self.settings.sparse_weight > 0:
                signals["sparse"] = self._sparse(text, allowed, depth)
            if self.settings.dense_weight > 0:
                vector = self.encoder.encode([text])[0]
                try:
                    signals["dense"] = self._dense(vector, resolved, allowed, depth)
                    self.unavailable = ""
                except StoreUnavailable as exc:  # reduced mode: BM25 alone until it is back
                    if not self.unavailable:
                        log.warning("%s; searching with BM25 alone meanwhile", exc)
                    self.unavailable = str(exc)
        else:
            vector = self._check_vector(query)
            signals["dense"] = self._dense(vector, resolved, allowed, depth)
        fused = reciprocal_rank_fusion(
            {name: list(hits) for name, hits in signals.items()},
            {"dense": self.settings.dense_weight, "sparse": self.settings.sparse_weight},
            k=self.settings.rrf_k,
        )
        ranks = {name: {p: r for r, p in enumerate(hits, 1)} for name, hits in signals.items()}
        return [self._candidate(p, score, signals, ranks) for p, score in fused[:k]]

    def _check_text(self, query: str) -> str:
        text = " ".join(query.split())
        if not text:
            raise QueryError("the query is empty; say what you are looking for")
        if len(text) > self.settings.max_query_chars:
            raise QueryError(
                f"the query is {len(text)} characters long; the limit is "
                f"{self.settings.max_query_chars} (retrieval.max_query_chars)"
            )
        return text

    def _check_vector(self, query: Any) -> np.ndarray:
        vector = np.asarray(query, dtype=np.float32)
        if vector.ndim == 2 and vector.shape[0] == 1:
            vector = vector[0]
        if vector.ndim != 1 or vector.shape[0] != self.store.dim:
            raise QueryError(
                f"the query vector has shape {tuple(np.shape(query))}; the store holds "
                f"{self.store.dim}-d vectors of {self.store.encoder_name!r} (dimension mismatch)"
            )
        if not np.all(np.isfinite(vector)) or not np.any(vector):
            raise QueryError("the query vector must be finite and not all zeros")
        return vector

    def _dense(
        self, vector: np.ndarray, filters: Filters, allowed: np.ndarray, depth: int
    ) -> dict[int, float]:
        """Snapshot position → similarity, best first, for allowed products only."""
        passing = int(allowed.sum())
        if passing == 0:
            return {}
        if not self.complete:
            return self._kept(self.store.query(vector, depth, filters=filters), allowed, depth)
        everything = passing == len(allowed)
        fetch = depth if everything else math.ceil(OVERFETCH * depth * len(allowed) / passing)
        if everything or fetch <= MAX_FETCH:
            hits = self._kept(self.store.query(vector, min(fetch, len(allowed))), allowed, depth)
            if len(hits) >= min(depth, passing):
                return hits
        ids = [self.snapshot.records[p].item_id for p in np.flatnonzero(allowed)]
        return self._kept(self.store.query(vector, depth, only=ids), allowed, depth)

    def _kept(
        self, hits: list[tuple[str, float]], allowed: np.ndarray, depth: int
    ) -> dict[int, float]:
        """The first `depth` hits that the snapshot lists and the filters allow."""
        kept: dict[int, float] = {}
        for item_id, similarity in hits:
            position = self.snapshot.position.get(item_id)
            if position is not None and allowed[position]:
                kept[position] = similarity
                if len(kept) == depth:
                    break
        return kept

    def _sparse(self, text: str, allowed: np.ndarray, depth: int) -> dict[int, float]:
        """Snapshot position → BM25 score, best first, over allowed products that match."""
        scores = np.where(allowed, self.snapshot.sparse.scores(text), 0.0)
        matching = np.flatnonzero(scores > 0)
        if matching.size > depth:
            matching = matching[np.argpartition(-scores[matching], depth - 1)[:depth]]
        order = matching[np.argsort(-scores[matching], kind="stable")]
        return {int(p): float(scores[p]) for p in order}

    def _candidate(
        self,
        position: int,
        score: float,
        signals: dict[str, dict[int, float]],
        ranks: dict[str, dict[int, int]],
    ) -> Candidate:
        record = self.snapshot.records[position]
        return Candidate(
            item=record.item,
            popularity=record.popularity,
            score=score,
            dense=signals.get("dense", {}).get(position),
            sparse=signals.get("sparse", {}).get(position),
            dense_rank=ranks.get("dense", {}).get(position),
            sparse_rank=ranks.get("sparse", {}).get(position),
        )
