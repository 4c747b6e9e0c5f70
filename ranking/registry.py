"""Scorers by name, as `longtail eval --models` and later commands name them.

Each entry builds an unfitted scorer from a seed and hyper-parameters and carries the
small grid that is searched on the validation split. Factories import their module on
use, so naming `pop` never loads torch, implicit or a text encoder. A new model plugs in
with one `register(ScorerSpec(...))`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import product
from typing import Any

from longtail.errors import LongtailError
from ranking.scorer import Scorer

Params = dict[str, Any]


class UnknownModelError(LongtailError):
    """A model name that no scorer is registered under."""


@dataclass(frozen=True)
class ScorerSpec:
    """How to build one model and which hyper-parameters to try on validation."""

    name: str
    factory: Callable[..., Scorer]  # factory(seed, **params) -> unfitted scorer
    summary: str
    grid: tuple[Params, ...] = ({},)  # candidates tried on validation, first = default
    baseline: bool = False  # the classic baselines that new models are compared against

    def build(self, seed: int, **params: Any) -> Scorer:
        return self.factory(seed, **params)


def grid(**values: list[Any]) -> tuple[Params, ...]:
    """Every combination of the given values, as a tuple of parameter dicts."""
    keys = list(values)
    return tuple(dict(zip(keys, combo, strict=True)) for combo in product(*values.values()))


_REGISTRY: dict[str, ScorerSpec] = {}


def register(spec: ScorerSpec) -> None:
    _REGISTRY[spec.name] = spec


def get(name: str) -> ScorerSpec:
    """The spec of a model name; an unknown name is a user error that lists the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownModelError(
            f"unknown model {name!r}; known models: {', '.join(names())}"
        ) from None


def names() -> list[str]:
    return list(_REGISTRY)


def _popularity(seed: int, **params: Any) -> Scorer:
    from ranking.popularity import PopularityScorer

    return PopularityScorer(**params)


def _itemknn(seed: int, **params: Any) -> Scorer:
    from ranking.itemknn import ItemKNNScorer

    return ItemKNNScorer(**params)


def _als(seed: int, **params: Any) -> Scorer:
    from ranking.als import ALSScorer

    return ALSScorer(seed=seed, **params)


def _content(seed: int, **params: Any) -> Scorer:
    from ranking.content import ContentScorer

    return ContentScorer(**params)


register(ScorerSpec("pop", _popularity, "most popular items in training", baseline=True))
register(
    ScorerSpec(
        "itemknn",
        _itemknn,
        "item-item cosine over binary co-occurrence, summed over the history",
        grid=grid(neighbours=[0, 50], shrink=[0.0, 10.0]),
        baseline=True,
    )
)
register(
    ScorerSpec(
        "als",
        _als,
        "implicit ALS, user vector recalculated from the request history",
        grid=grid(factors=[128, 256], alpha=[10.0, 40.0]),
        baseline=True,
    )
)
register(
    ScorerSpec(
        "content",
        _content,
        "cosine to the recency-weighted mean MiniLM vector of the history",
        grid=grid(decay=[1.0, 0.8, 0.5, 0.2, 0.0]),
        baseline=True,
    )
)


def _intent(seed: int, **params: Any) -> Scorer:
    from ranking.intent import IntentScorer

    return IntentScorer(seed=seed, **params)


for _option, _what in (("logq", "logit adjustment"), ("category", "category vectors")):
    register(
        ScorerSpec(
            f"intent-ablate-{_option}",
            _intent,
            f"the searched intent encoder with its {_what} switched (ablation)",
            grid=({"ablate": _option},),
        )
    )


def _cf(seed: int, **params: Any) -> Scorer:
    from ranking.cf import CFScorer

    return CFScorer(seed=seed, **params)


# The intent encoder searches its own hyper-parameters on validation (ranking/intent_search),
# within this many seconds, before its final training with early stopping.
INTENT_SEARCH = {"search_budget_s": 480.0}
register(
    ScorerSpec(
        "intent",
        _intent,
        "attention-based intent encoder over the behaviour sequence (text-initialised items)",
        grid=(INTENT_SEARCH,),
    )
)
register(
    ScorerSpec(
        "cf",
        _cf,
        "ItemKNN + ALS fused as per-request z-scores (the agent's CF lookups)",
        grid=grid(knn_weight=[0.3, 0.5, 0.7]),
    )
)


def _hybrid(seed: int, **params: Any) -> Scorer:
    from ranking.hybrid import HybridScorer

    return HybridScorer(seed=seed, **params)


register(
    ScorerSpec(
        "hybrid",
        _hybrid,
        "semantic + intent + CF (+ LLM) candidates, listwise-logistic combination, tail re-rank",
    )
)
_ABLATIONS = {
    "semantic": {"sources": ["sparse", "intent", "cf", "llm"]},
    "cf": {"sources": ["semantic", "sparse", "intent", "llm"]},
    "intent": {"sources": ["semantic", "sparse", "cf", "llm"]},
    "llm": {"sources": ["semantic", "sparse", "intent", "cf"]},
    "tail-rerank": {"tail_knob": 0.0},
}
for _part, _params in _ABLATIONS.items():
    register(
        ScorerSpec(
            f"hybrid-no-{_part}",
            _hybrid,
            f"hybrid without {_part.replace('-', ' ')} (ablation)",
            grid=(_params,),
        )
    )
