"""The single scorers that the hybrid ranker combines, each with its validation grid. The
registry lists them under the same names; the hybrid builds them from here, so it does not
reach back up through the registry. Factories import their module on use, so naming one
never loads torch, implicit or a text encoder."""

from __future__ import annotations

from typing import Any

from ranking.intent_search import INTENT_SEARCH
from ranking.scorer import Scorer
from ranking.spec import ScorerSpec, grid


def _itemknn(seed: int, **params: Any) -> Scorer:
    from ranking.itemknn import ItemKNNScorer

    return ItemKNNScorer(**params)


def _als(seed: int, **params: Any) -> Scorer:
    from ranking.als import ALSScorer

    return ALSScorer(seed=seed, **params)


def _markov(seed: int, **params: Any) -> Scorer:
    from ranking.markov import MarkovScorer

    return MarkovScorer(**params)


def _content(seed: int, **params: Any) -> Scorer:
    from ranking.content import ContentScorer

    return ContentScorer(**params)


def intent_scorer(seed: int, **params: Any) -> Scorer:
    from ranking.intent import IntentScorer

    return IntentScorer(seed=seed, **params)


ITEMKNN = ScorerSpec(
    "itemknn",
    _itemknn,
    "item-item cosine over binary co-occurrence, summed over the history",
    grid=grid(neighbours=[0, 50], shrink=[0.0, 10.0]),
    baseline=True,
)
ALS = ScorerSpec(
    "als",
    _als,
    "implicit ALS, user vector recalculated from the request history",
    grid=grid(factors=[128, 256], alpha=[10.0, 40.0]),
    baseline=True,
)
CONTENT = ScorerSpec(
    "content",
    _content,
    "cosine to the recency-weighted mean MiniLM vector of the history",
    grid=grid(decay=[1.0, 0.8, 0.5, 0.2, 0.0]),
    baseline=True,
)
MARKOV = ScorerSpec(
    "markov",
    _markov,
    "first-order transitions: what shoppers took next after the history's latest items",
    grid=grid(window=[1, 3, 5]),
    baseline=True,
)
INTENT = ScorerSpec(
    "intent",
    intent_scorer,
    "attention-based intent encoder over the behaviour sequence (text-initialised items)",
    grid=(INTENT_SEARCH,),
)
SPECS = {spec.name: spec for spec in (CONTENT, INTENT, ITEMKNN, ALS, MARKOV)}
