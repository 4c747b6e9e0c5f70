"""The hybrid ranker as a Scorer: candidates from every source, a learned combination,
then long-tail re-ranking. This is what `longtail eval` judges and `longtail train` saves.

Components (the semantic visor's content profile, the intent encoder, ItemKNN and ALS) are
fitted on the training part and shared through `ranking.fitted`, so the ablations of one
evaluation run reuse them. The combiner is then trained on the validation requests, whose
targets none of the components saw. `HybridRanker` (ranking/hybrid_ranker.py) serves the
same model at request time, with a chat message, filters and item ids.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from tqdm import tqdm

from catalog.dataset import tail_mask
from core.atomic import current
from ranking.combiner import Combiner, Featurised, training_batch
from ranking.components import SPECS
from ranking.fitted import fit_once, refit_once, shared_fit
from ranking.hybrid_features import (
    FEATURES,
    GENERATORS,
    GROUP,
    CatalogContext,
    candidate_sets,
    context_features,
    feature_tensor,
    recent_counts,
)
from ranking.intent_search import INTENT_SEARCH
from ranking.request import SOURCES
from ranking.scorer import Scorer, ScorerError, TrainingData
from ranking.tail_rerank import DEFAULT_DUPLICATE_COSINE, suppress_duplicates, tail_order
from ranking.tuning import tune  # the search `longtail eval` runs, done once per model

if TYPE_CHECKING:
    from ranking.hybrid_ranker import RequestRows

# The components' settings without validation requests. With them, each component takes
# what its own validation search (the registry grid, as `longtail eval` runs it) chooses on
# this dataset; the intent encoder searches its hyper-parameters itself.
COMPONENTS: dict[str, dict[str, Any]] = {
    "content": {"decay": 0.2},
    "intent": dict(INTENT_SEARCH),
    "itemknn": {"neighbours": 0, "shrink": 10.0},
    "als": {"factors": 256, "alpha": 10.0},
    "markov": {"window": 3, "decay": 0.5},
}
SIGNAL_OF = {
    "content": "semantic",
    "intent": "intent",
    "itemknn": "knn",
    "als": "als",
    "markov": "markov",
}
NEEDED = {"semantic": ("content",), "intent": ("intent",), "cf": ("itemknn", "als", "markov")}
# The default tail knob is chosen per dataset on the validation requests (`choose_tail_knob`):
# the largest knob of KNOB_GRID whose validation recall@10 stays within KNOB_RECALL_TOLERANCE
# of knob 0's. FALLBACK_TAIL_KNOB (mid-range: a tail item may pass up to ten head items)
# applies only without validation requests. Requests may always set their own.
KNOB_GRID = tuple(round(0.1 * i, 1) for i in range(11))
KNOB_RECALL_TOLERANCE = 0.05
FALLBACK_TAIL_KNOB = 0.5
DEFAULT_DEPTH = 100
KEEP = 50  # list positions that tail re-ranking and duplicate suppression work on
BATCH = 128


@dataclass
class Ranked:
    """One request's candidates in final order, with what explanations need."""

    items: np.ndarray  # item indices, final order
    scores: np.ndarray  # combiner scores, aligned
    features: np.ndarray  # (len(items), len(FEATURES))
    provenance: np.ndarray  # (len(items), len(sources)) bool


class HybridScorer(Scorer):
    """Hybrid ranking over the sources in `sources`; `tail_knob` 0 turns re-ranking off."""

    name: ClassVar[str] = "hybrid"

    def __init__(
        self,
        sources: Sequence[str] = SOURCES,
        tail_knob: float | None = None,
        depth: int = DEFAULT_DEPTH,
        duplicate_cosine: float = DEFAULT_DUPLICATE_COSINE,
        seed: int = 7,
        components: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        unknown = [s for s in sources if s not in SOURCES]
        if unknown:
            raise ScorerError(f"hybrid: unknown source {unknown[0]!r}; known: {SOURCES}")
        if tail_knob is not None and not 0.0 <= tail_knob <= 1.0:
            raise ScorerError(f"hybrid: tail_knob must be within [0, 1], got {tail_knob}")
        self.sources = tuple(sources)
        # None: chosen on validation by fit(); params() then saves the chosen value.
        self.choose_knob = tail_knob is None
        self.tail_knob = FALLBACK_TAIL_KNOB if tail_knob is None else float(tail_knob)
        self.knob_validation: list[dict[str, float]] = []  # the choice's sweep, by fit()
        self.depth = depth
        self.duplicate_cosine = duplicate_cosine
        self.seed = seed
        # Per component, hyper-parameters over COMPONENTS (e.g. {"intent": {"max_epochs": 5}}).
        self.component_params = {
            name: {**COMPONENTS[name], **(components or {}).get(name, {})} for name in COMPONENTS
        }
        self.overrides = dict(components or {})
        self.components: dict[str, Scorer] = {}
        self.combiner = Combiner(self.active_features())
        # Requests with a chat message are scored by their own combination when one was
        # learned on validation requests with messages (ranking/message_combiner.py).
        self.message_combiner: Combiner | None = None
        # The tail knob for those requests, chosen on the same validation requests (None:
        # the ranker's hand-set MESSAGE_TAIL_KNOB).
        self.message_tail_knob: float | None = None
        # Requests with LLM-written candidate texts (an indirect need), where their weight
        # was learned on validation requests with such texts (ranking/message_combiner.py).
        self.llm_combiner: Combiner | None = None
        self.context = CatalogContext(
            np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0)
        )
        self.tail = np.zeros(0, dtype=bool)
        self._memo: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        # Per-history extra signal rows for evaluation (LLM candidates of sampled users),
        # keyed by the history's bytes; scored one request at a time.
        self.request_signals: dict[bytes, dict[str, np.ndarray]] = {}

    # ------------------------------------------------------------ configuration
    def active_features(self) -> tuple[str, ...]:
        signals = {s for g in self.sources for s in GENERATORS[g]}
        return tuple(
            f
            for f in FEATURES
            if GROUP[f] in ("popularity", "context") or f.rsplit("_", 1)[0] in signals
        )

    def needed_components(self) -> list[str]:
        """The components whose scores are signals of this configuration's sources."""
        return [c for source in self.sources for c in NEEDED.get(source, ())]

    def component_names(self) -> list[str]:
        """What is fitted and saved: the needed components, plus the content vectors that
        near-duplicate suppression and request-time message features always use."""
        return list(dict.fromkeys([*self.needed_components(), "content"]))

    def params(self) -> dict[str, Any]:
        return {
            "sources": list(self.sources),
            "tail_knob": self.tail_knob,
            "depth": self.depth,
            "duplicate_cosine": self.duplicate_cosine,
            "seed": self.seed,
            "components": self.overrides,
        }

    # ----------------------------------------------------------------- training
    def fit(self, data: TrainingData) -> HybridScorer:
        """Components, catalog context and combiner, then (unless fixed) the default knob.

        The knob only reorders a request's scored candidates, so configurations that differ
        in it alone (`hybrid` and `hybrid-no-tail-rerank`) share one fitted state and one
        memo of scored requests within a process (`shared_fit`) instead of each computing
        every validation and test request's features again.
        """
        self.n_items = data.n_items
        options = json.dumps(self.overrides, sort_keys=True, default=str)
        key = ("hybrid", self.sources, self.depth, self.duplicate_cosine, self.seed, options)
        twin = shared_fit(key, data, lambda: self._fit_knob_free(data))
        self.components, self.component_params = twin.components, twin.component_params
        self.context, self.tail, self.combiner = twin.context, twin.tail, twin.combiner
        self._memo = twin._memo
        if data.validation and self.choose_knob:
            self.tail_knob, self.knob_validation = self.choose_tail_knob(data.validation)
        return self

    def _fit_knob_free(self, data: TrainingData) -> HybridScorer:
        """Everything `fit` learns except the knob, on this scorer itself."""
        self._memo = {}
        self.components = {name: self._fit_component(name, data) for name in self.component_names()}
        self.set_catalog(data)
        self.combiner = Combiner(self.active_features())
        if data.validation:
            self._fit_combiner(data.validation, data.validation_signals)
        return self

    def refit(self, data: TrainingData) -> HybridScorer:
        """Components refitted on `data`, and the catalog context (popularity, recent
        popularity) counted on it; the combiner, knob and tail set learned on validation
        stay. Configurations that share a fitted state (`hybrid` and
        `hybrid-no-tail-rerank`) share the refitted components and a new memo."""
        twin = copy.copy(self)
        twin.components = {name: refit_once(c, data) for name, c in self.components.items()}
        twin.context = catalog_context(data)
        twin._memo = shared_fit(("hybrid-refit", id(self._memo)), data, dict)
        return twin

    def choose_tail_knob(
        self, validation: list[tuple[np.ndarray, int]]
    ) -> tuple[float, list[dict[str, float]]]:
        """The largest knob whose validation recall@10 is at least (1 − tolerance) × that of
        knob 0, and the validation sweep it was read from (recall and tail recall @10)."""
        histories = [np.asarray(h) for h, _ in validation]
        for start in range(0, len(histories), BATCH * 8):  # fills the memo; bounded memory
            self._score(histories[start : start + BATCH * 8])
        sweep = []
        for knob in KNOB_GRID:
            hits = tail_hits = 0
            for history, (_, target) in zip(histories, validation, strict=True):
                items, scores = self._memo[history.tobytes()]
                top = items[self.final_order(items, scores, knob, 10)[:10]]
                hit = bool((top == target).any())
                hits += hit
                tail_hits += hit and bool(self.tail[target])
            tail_targets = max(int(self.tail[[t for _, t in validation]].sum()), 1)
            sweep.append(
                {
                    "tail_knob": knob,
                    "recall@10": hits / len(validation),
                    "tail_recall@10": tail_hits / tail_targets,
                }
            )
        floor = (1.0 - KNOB_RECALL_TOLERANCE) * sweep[0]["recall@10"]
        chosen = max(p["tail_knob"] for p in sweep if p["recall@10"] >= floor)
        return float(chosen), sweep

    def _fit_component(self, name: str, data: TrainingData) -> Scorer:
        """A component at its validation-chosen settings (unless a caller fixed them)."""
        spec = SPECS[name]
        if name in self.overrides or not data.validation or len(spec.grid) == 1:
            return fit_once(spec, self.component_params[name], data, self.seed)
        scorer, self.component_params[name], _ = tune(spec, data, self.seed)
        return scorer

    def set_catalog(self, data: TrainingData) -> None:
        """Context features and the tail set, from the catalog and training counts."""
        self.context = catalog_context(data)
        self.tail = tail_mask(self.context.popularity)

    def _fit_combiner(
        self,
        validation: list[tuple[np.ndarray, int]],
        request_signals: dict[bytes, dict[str, np.ndarray]] | None = None,
    ) -> None:
        """Listwise logistic regression on the validation requests whose target is a candidate.

        Requests with `request_signals` (LLM candidates) are featurised with them, one at a
        time, so the weights of those signals are learned rather than fixed.
        """
        histories = [h for h, _ in validation]
        chunks = self._request_chunks(
            histories, request_signals or {}, progress="hybrid: combiner features"
        )
        featurised = []
        for positions, extra in chunks:
            candidates, _, features = self._candidates([histories[i] for i in positions], extra)
            for row, i in enumerate(positions):
                featurised.append(Featurised(candidates[row], features[row], validation[i][1]))
        batch = training_batch(featurised)
        if batch is not None:
            self.combiner.fit(*batch)

    # ------------------------------------------------------------------ scoring
    def signals(
        self, histories: Sequence[np.ndarray], extra: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        """Full-catalog score rows of every active signal; `extra` adds request-time ones
        (message, sparse, llm) computed by the caller."""
        out: dict[str, np.ndarray] = {}
        for name in self.needed_components():
            if SIGNAL_OF[name] not in extra:  # the caller computed it (e.g. with a message)
                out[SIGNAL_OF[name]] = np.asarray(self.components[name].score(histories))
        active = {s for g in self.sources for s in GENERATORS[g]}
        out.update({k: np.asarray(v) for k, v in extra.items() if k in active})
        return out

    def _candidates(
        self,
        histories: Sequence[np.ndarray],
        extra: dict[str, np.ndarray],
        allowed: np.ndarray | None = None,
        proposed: dict[str, list[np.ndarray]] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if allowed is None:
            allowed = np.ones((len(histories), self.n_items), dtype=bool)
            for row, history in enumerate(histories):
                allowed[row, history] = False
        signals = self.signals(histories, extra)
        candidates, provenance = candidate_sets(
            signals, allowed, self.sources, self.depth, proposed
        )
        context = context_features([np.asarray(h) for h in histories], self.context)
        features = feature_tensor(signals, context, allowed, candidates)
        return candidates, provenance, features

    def candidate_features(self, rows: RequestRows) -> tuple[np.ndarray, np.ndarray]:
        """One served request's candidates and their features (no padding)."""
        candidates, _, features = self._candidates(
            [rows.history], rows.extra, rows.allowed[None, :], rows.proposed
        )
        valid = candidates[0] >= 0
        return candidates[0][valid], features[0][valid]

    def rank_batch(
        self,
        histories: Sequence[np.ndarray],
        extra: dict[str, np.ndarray] | None = None,
        allowed: np.ndarray | None = None,
        keep: int = KEEP,
        tail_knob: float | None = None,
        proposed: dict[str, list[np.ndarray]] | None = None,
        named_kind: bool = False,
    ) -> list[Ranked]:
        """Candidates, combiner scores and the re-ranked order for each history.

        `extra` adds or overrides signal rows (message, sparse, llm, a message-aware intent).
        """
        knob = self.tail_knob if tail_knob is None else tail_knob
        candidates, provenance, features = self._candidates(
            histories, extra or {}, allowed, proposed
        )
        scores = self.combiner_for(extra or {}, named_kind).score(features)
        out = []
        for row in range(len(histories)):
            valid = candidates[row] >= 0
            items, row_scores = candidates[row][valid], scores[row][valid]
            order = self.final_order(items, row_scores, knob, keep)
            out.append(
                Ranked(
                    items=items[order],
                    scores=row_scores[order],
                    features=features[row][valid][order],
                    provenance=provenance[row][valid][order],
                )
            )
        return out

    def combiner_for(self, extra: dict[str, np.ndarray], named_kind: bool = False) -> Combiner:
        """The message combination for requests whose message names a catalog kind (what it
        was learned on), where one was learned; else, for requests with LLM texts, the
        combination whose LLM weights were learned on such requests; else the hand-set one."""
        if self.message_combiner is not None and named_kind and "message" in extra:
            return self.message_combiner
        if self.llm_combiner is not None and "llm" in extra and not named_kind:
            return self.llm_combiner
        return self.combiner

    def final_order(
        self, items: np.ndarray, scores: np.ndarray, knob: float, keep: int
    ) -> np.ndarray:
        """Positions into `items` in final order: tail re-ranking, then near-duplicates."""
        order = tail_order(scores, self.tail[items], knob)
        vectors = self.item_vectors()
        candidate_vectors = None if vectors is None else vectors[items]
        return suppress_duplicates(order, candidate_vectors, keep, self.duplicate_cosine)

    def describe(self) -> list[dict[str, Any]]:
        """The combiner's weights, for reports and the staff console."""
        return self.combiner.describe()

    def item_vectors(self) -> np.ndarray | None:
        content = self.components.get("content")
        return getattr(content, "item_vectors", None)

    def _score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """Full-catalog scores whose order is the final ranking, candidates first.

        Candidates and combiner scores are memoised per history, so a sweep over the tail
        knob re-ranks without recomputing the signals.
        """
        # Non-candidates come after every candidate, most popular first: finite, as the
        # Scorer contract asks, and a sensible tail to a full ranking.
        popularity = np.log1p(self.context.popularity.astype(np.float32))
        floor = -2.0 + popularity / max(float(popularity.max()), 1e-9)
        out = np.tile(floor.astype(np.float32), (len(histories), 1))
        missing = [np.asarray(h) for h in histories if np.asarray(h).tobytes() not in self._memo]
        for positions, extra in self._request_chunks(missing, self.request_signals):
            chunk = [missing[i] for i in positions]
            candidates, _, features = self._candidates(chunk, extra)
            scores = self.combiner.score(features)
            for row, history in enumerate(chunk):
                valid = candidates[row] >= 0
                self._memo[history.tobytes()] = (candidates[row][valid], scores[row][valid])
        for row, history in enumerate(histories):
            items, scores = self._memo[np.asarray(history).tobytes()]
            order = self.final_order(items, scores, self.tail_knob, KEEP)
            out[row, items[order]] = np.arange(len(order), 0, -1, dtype=np.float32)
        return out

    @staticmethod
    def _request_chunks(
        histories: Sequence[np.ndarray],
        request_signals: dict[bytes, dict[str, np.ndarray]],
        progress: str | None = None,
    ) -> Iterator[tuple[list[int], dict[str, np.ndarray]]]:
        """Positions of `histories` in batches of BATCH, except those with their own signal
        rows: alone, with those rows as `extra` (a batch shares one set of extra rows)."""
        own = [np.asarray(h).tobytes() in request_signals for h in histories]
        plain = [i for i, has in enumerate(own) if not has]
        starts = range(0, len(plain), BATCH)
        for start in tqdm(starts, desc=progress, leave=False) if progress else starts:
            yield plain[start : start + BATCH], {}
        for i in (i for i, has in enumerate(own) if has):
            rows = request_signals[np.asarray(histories[i]).tobytes()]
            yield [i], {k: v[None, :] for k, v in rows.items()}

    # -------------------------------------------------------------- persistence
    def write_files(self, folder: Path, fingerprint: str = "") -> None:
        """The combiner, plus each component in components/<name>/ (what it was trained with)."""
        super().write_files(folder, fingerprint)
        for name, component in self.components.items():
            component.write_files(Path(folder) / "components" / name, fingerprint)

    @classmethod
    def load(cls, folder: Path, fingerprint: str = "") -> HybridScorer:
        scorer = super().load(folder, fingerprint)
        assert isinstance(scorer, HybridScorer)
        for name in scorer.component_names():
            kind = type(SPECS[name].build(scorer.seed, **scorer.component_params[name]))
            parts = current(Path(folder)) / "components" / name
            scorer.components[name] = kind.load(parts, fingerprint)
        return scorer

    def state(self) -> dict[str, np.ndarray]:
        extra = {}
        for prefix, combiner in (
            ("message_combiner", self.message_combiner),
            ("llm_combiner", self.llm_combiner),
        ):
            if combiner is not None:
                extra.update({f"{prefix}.{k}": v for k, v in combiner.state().items()})
        if self.message_tail_knob is not None:
            extra["message_tail_knob"] = np.array(self.message_tail_knob, dtype=np.float32)
        return {
            **{f"combiner.{k}": v for k, v in self.combiner.state().items()},
            **extra,
            "popularity": self.context.popularity,
            "recent": self.context.recent,
            "category": self.context.category,
            "price": self.context.price,
            "tail": self.tail,
        }

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        self.combiner.set_state(_prefixed(state, "combiner."))
        # Learned by ranking/message_combiner.py; absent in older models.
        self.message_combiner = _combiner(_prefixed(state, "message_combiner."))
        self.llm_combiner = _combiner(_prefixed(state, "llm_combiner."))
        knob = state.get("message_tail_knob")
        self.message_tail_knob = None if knob is None else round(float(knob), 4)
        if len(self.combiner.weights) != len(FEATURES) or "recent" not in state:
            raise ScorerError(
                f"hybrid: this model was saved by an older version ({len(self.combiner.weights)}"
                f" combiner features, this version has {len(FEATURES)}); retrain it with "
                "`longtail train`"
            )
        self.context = CatalogContext(
            state["popularity"], state["recent"], state["category"], state["price"]
        )
        self.tail = state["tail"].astype(bool)


def catalog_context(data: TrainingData) -> CatalogContext:
    """What the context features need, counted on `data`'s sequences and catalog."""
    categories = [p.category or "" for p in data.products]
    codes = {c: i for i, c in enumerate(sorted({c for c in categories if c}))}
    return CatalogContext(
        popularity=data.item_counts(),
        recent=recent_counts(data.sequences, data.n_items),
        category=np.array([codes.get(c, -1) for c in categories], dtype=np.int64),
        price=np.array(
            [np.nan if p.price is None else float(p.price) for p in data.products],
            dtype=np.float64,
        ),
    )


def _prefixed(state: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {k.removeprefix(prefix): v for k, v in state.items() if k.startswith(prefix)}


def _combiner(state: dict[str, np.ndarray]) -> Combiner | None:
    if not state:
        return None
    combiner = Combiner()
    combiner.set_state(state)
    return combiner
