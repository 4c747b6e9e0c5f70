"""The hybrid ranker at request time: item ids, a chat message, filters, the tail knob.

`HybridRanker.open(settings, data_dir)` loads the trained hybrid model (`longtail train
--models hybrid`) and the dataset's semantic-visor store (`longtail ingest`). A request's
filters become an exact mask over the catalog before anything is ranked; the message is
searched in Chroma (dense + BM25, the same filters) for candidates, and also feeds the
intent encoder's message token and the message-similarity features.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from catalog.dataset import Dataset
from catalog.models import EVENTS, Product
from core.items import ItemSummary
from core.settings import Settings
from ranking.combiner import Combiner
from ranking.errors import RankingError
from ranking.hybrid import HybridScorer, Ranked
from ranking.intent import IntentExplanation, IntentScorer
from ranking.request import SOURCES, RankedItem, RankRequest, RankResult
from retrieval.search import Retriever

MAX_K = 100
MAX_HISTORY = 10_000  # longer histories are refused: the encoder reads the last 50 anyway
MAX_LLM_TEXTS = 10
DRIVING_ATTENTION = 0.15  # history items with at least this attention are named as drivers
# With a message the shopper has said what they want, so by default the tail knob is gentler
# (a tail item moves up at most four places instead of 23): exposure without ignoring them.
MESSAGE_TAIL_KNOB = 0.3


@dataclass
class RequestRows:
    """One request as the scorer takes it (see `HybridRanker.request_rows`)."""

    history: np.ndarray
    allowed: np.ndarray  # (n_items,) the filters' mask
    knob: float
    extra: dict[str, np.ndarray]  # signal -> (1, n_items) request-time score row
    proposed: dict[str, list[np.ndarray]]  # generator -> [items found outside the rows]
    explanation: IntentExplanation | None
    timings: dict[str, float]
    named_kind: bool = False  # the message names a catalog kind (`RankRequest.kind`)


class HybridRanker:
    """Serves `RankRequest`s for one dataset."""

    def __init__(self, dataset: Dataset, scorer: HybridScorer, retriever: Retriever) -> None:
        self.dataset = dataset
        self.scorer = scorer
        self.retriever = retriever
        self._ids = dataset.item_ids  # a property that builds a new list on every call
        self._index = {item_id: i for i, item_id in enumerate(self._ids)}
        # The retriever's snapshot lists products in its own order; map it onto ours.
        self._from_snapshot = np.array(
            [self._index.get(r.item_id, -1) for r in retriever.snapshot.records], dtype=np.int64
        )

    @classmethod
    def open(cls, settings: Settings, data_dir: Path) -> HybridRanker:
        from threadpoolctl import threadpool_limits

        from catalog.loading import load_dataset
        from ranking.artifacts import load_trained

        # A request multiplies one history against the catalog: BLAS threads only add
        # hand-off waits (and contend with the server's other requests) at that size.
        threadpool_limits(1, "blas")
        dataset = load_dataset(data_dir)
        scorer = load_trained(settings.home, dataset, "hybrid")
        assert isinstance(scorer, HybridScorer)
        return cls(dataset, scorer, Retriever.open(settings, data_dir))

    def product(self, item_id: str) -> Product:
        return self.dataset.products[self._item(item_id)]

    def rank(self, request: RankRequest) -> RankResult:
        """Ranked items with per-signal contributions; bad requests are RankingErrors."""
        started = time.perf_counter()
        rows = self.request_rows(request)
        history, knob, extra, timings = rows.history, rows.knob, rows.extra, rows.timings
        t = time.perf_counter()
        ranked = self.scorer.rank_batch(
            [history],
            extra,
            rows.allowed[None, :],
            keep=max(request.k, 20),
            tail_knob=knob,
            proposed=rows.proposed,
            named_kind=rows.named_kind,
        )[0]
        timings["rank_ms"] = _ms(t)
        drivers = self._drivers(history, rows.explanation)
        similarity = extra["message"][0] if "message" in extra else None
        combiner = self.scorer.combiner_for(extra, rows.named_kind)
        items = [
            self._ranked_item(ranked, position, drivers, combiner, similarity)
            for position in range(request.k)
            if position < len(ranked.items)
        ]
        timings["total_ms"] = _ms(started)
        used = [g for g in self.scorer.sources if g != "llm" or "llm" in extra]
        if not request.message.strip():
            used = [g for g in used if g != "sparse"]
        return RankResult(
            items=items,
            candidates=len(ranked.items),
            tail_knob=knob,
            timings_ms=timings,
            sources_used=tuple(used),
        )

    def request_rows(self, request: RankRequest) -> RequestRows:
        """What the scorer ranks for one request: its history, allowed mask, tail knob and
        the request-time signal rows (message, BM25, message-aware intent, LLM texts)."""
        timings: dict[str, float] = {}
        started = time.perf_counter()
        history, events = self._history(request)
        # Whether a message is there too is `combiner_for`'s check ("message" in extra).
        named_kind = bool(request.kind.strip())
        knob = request.tail_knob
        if knob is None:
            knob = self._default_knob(request.message, named_kind)
        if not 0.0 <= knob <= 1.0:
            raise RankingError(f"tail_knob must be within [0, 1], got {knob}")
        if not 1 <= request.k <= MAX_K:
            raise RankingError(f"k must be from 1 to {MAX_K}, got {request.k}")
        allowed = self._allowed(request, history)
        timings["filter_ms"] = _ms(started)

        extra: dict[str, np.ndarray] = {}
        proposed: dict[str, list[np.ndarray]] = {}
        message_vector = None
        vectors = self.scorer.item_vectors()
        assert vectors is not None
        if request.message.strip():
            t = time.perf_counter()
            text = " ".join(request.message.split())[: self.retriever.settings.max_query_chars]
            message_vector = self.retriever.encoder.encode([text])[0]
            extra["message"] = (vectors @ message_vector)[None, :]
            # BM25 over the whole catalog: its top list joins the candidates as `sparse`.
            sparse = self.retriever.snapshot.sparse.scores(text)
            extra["sparse"] = self._catalog_row(sparse).astype(np.float32)[None, :]
            # The semantic visor's dense query in Chroma, under the same filters.
            depth, filters = self.scorer.depth, request.filters
            hits = self.retriever.search(message_vector, k=depth, filters=filters)
            proposed["semantic"] = [
                np.array([self._index[h.item_id] for h in hits if h.item_id in self._index])
            ]
            timings["retrieval_ms"] = _ms(t)
        explanation = None
        intent = self.scorer.components.get("intent")
        if isinstance(intent, IntentScorer) and "intent" in self.scorer.sources:
            t = time.perf_counter()
            # One forward pass gives both the intent scores and the attention for drivers.
            explanation = intent.explain(history, events, message_vector)
            extra["intent"] = intent.scores_for(explanation.intent)
            timings["intent_ms"] = _ms(t)
        if request.llm_texts and "llm" in self.scorer.sources:
            t = time.perf_counter()
            texts = [" ".join(x.split()) for x in request.llm_texts[:MAX_LLM_TEXTS] if x.strip()]
            if texts:
                llm_vectors = self.retriever.encoder.encode(texts)
                extra["llm"] = (vectors @ llm_vectors.T).max(axis=1)[None, :]
            timings["llm_candidates_ms"] = _ms(t)
        return RequestRows(
            history, allowed, knob, extra, proposed, explanation, timings, named_kind
        )

    # ------------------------------------------------------------------ helpers
    def _default_knob(self, message: str, named_kind: bool) -> float:
        """The model's knob without a message; with one that names a kind, the knob chosen
        on validation requests like it (where `longtail train` chose one); else the gentler
        hand-set MESSAGE_TAIL_KNOB."""
        if not message.strip():
            return self.scorer.tail_knob
        if named_kind and self.scorer.message_tail_knob is not None:
            return self.scorer.message_tail_knob
        return MESSAGE_TAIL_KNOB

    def _item(self, item_id: str) -> int:
        try:
            return self._index[item_id]
        except KeyError:
            raise RankingError(f"unknown item id {item_id!r}: not in the catalog") from None

    def _history(self, request: RankRequest) -> tuple[np.ndarray, np.ndarray]:
        if len(request.history) > MAX_HISTORY:
            raise RankingError(
                f"the history has {len(request.history)} events; the limit is {MAX_HISTORY}"
            )
        history = np.array([self._item(i) for i in request.history], dtype=np.int64)
        if request.events and len(request.events) != len(request.history):
            raise RankingError(
                f"events has {len(request.events)} entries but history has "
                f"{len(request.history)}; give one event per history item or none"
            )
        default = (
            self.scorer.components["intent"].config["default_event"]
            if ("intent" in self.scorer.components)
            else EVENTS.index("purchase")
        )
        codes = []
        for event in request.events or ():
            if event not in EVENTS:
                raise RankingError(f"unknown event {event!r}; known: {', '.join(EVENTS)}")
            codes.append(EVENTS.index(event))
        events = np.array(codes or [default] * len(history), dtype=np.int64)
        return history, events

    def _allowed(self, request: RankRequest, history: np.ndarray) -> np.ndarray:
        """The request's filters as an exact mask over the catalog (the retriever's rules)."""
        snapshot = self.retriever.snapshot
        filters = snapshot.resolve(request.filters)
        allowed = self._catalog_row(snapshot.mask(filters))
        if request.exclude_seen and len(history):
            allowed[history] = False
        return allowed

    def _catalog_row(self, values: np.ndarray) -> np.ndarray:
        """Per-snapshot-record values in catalog order (zero/False for products it lacks)."""
        out = np.zeros(self.dataset.n_items, dtype=values.dtype)
        known = self._from_snapshot >= 0
        out[self._from_snapshot[known]] = values[known]
        return out

    def _drivers(
        self, history: np.ndarray, explanation: IntentExplanation | None
    ) -> tuple[str, ...]:
        """History items the intent encoder attended to most (what drove the intent)."""
        if explanation is None or not len(history):
            return ()
        attention = explanation.attention
        order = np.argsort(-attention, kind="stable")[:2]
        return tuple(self._ids[history[i]] for i in order if attention[i] >= DRIVING_ATTENTION)

    def _ranked_item(
        self,
        ranked: Ranked,
        position: int,
        drivers: tuple[str, ...],
        combiner: Combiner,
        similarity: np.ndarray | None = None,
    ) -> RankedItem:
        index = int(ranked.items[position])
        product = self.dataset.products[index]
        sources = tuple(
            g
            for g, hit in zip(self.scorer.sources, ranked.provenance[position], strict=True)
            if hit
        )
        return RankedItem(
            item=ItemSummary.of(product),
            rank=position + 1,
            score=round(float(ranked.scores[position]), 4),
            tail=bool(self.scorer.tail[index]),
            popularity=int(self.scorer.context.popularity[index]),
            sources=sources,
            contributions={
                k: round(v, 4) for k, v in combiner.contributions(ranked.features[position]).items()
            },
            driving_history=drivers if "intent" in sources else (),
            message_similarity=None if similarity is None else round(float(similarity[index]), 4),
        )


def _ms(started: float) -> float:
    return round(1000 * (time.perf_counter() - started), 2)


__all__ = ["SOURCES", "HybridRanker", "RankingError"]
