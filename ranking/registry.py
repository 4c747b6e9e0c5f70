"""Scorers by name, as `longtail eval --models` and later commands name them.

Each entry builds an unfitted scorer from a seed and hyper-parameters and carries the
small grid that is searched on the validation split. Factories import their module on
use, so naming `pop` never loads torch, implicit or a text encoder. A new model plugs in
with one `register(ScorerSpec(...))`. The registry sits on top of the scorers: it hands out
their specs and no scorer looks another up here (the hybrid's parts: ranking.components).
"""

from __future__ import annotations

from typing import Any

from core.errors import LongtailError
from ranking.components import ALS, CONTENT, INTENT, ITEMKNN, MARKOV, intent_scorer
from ranking.scorer import Scorer
from ranking.spec import ScorerSpec, grid


class UnknownModelError(LongtailError):
    """A model name that no scorer is registered under."""


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


register(ScorerSpec("pop", _popularity, "most popular items in training", baseline=True))
for _spec in (ITEMKNN, ALS, MARKOV, CONTENT):
    register(_spec)
for _option, _what in (("logq", "logit adjustment"), ("category", "category vectors")):
    register(
        ScorerSpec(
            f"intent-ablate-{_option}",
            intent_scorer,
            f"the searched intent encoder with its {_what} switched (ablation)",
            grid=({"ablate": _option},),
        )
    )
register(INTENT)


def _cf(seed: int, **params: Any) -> Scorer:
    from ranking.cf import CFScorer

    return CFScorer(seed=seed, **params)


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
