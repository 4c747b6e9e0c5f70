"""How to build one scorer and which hyper-parameters to try on validation: what the registry
hands out by name, and what `fit_once` and the validation search take."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import product
from typing import Any

from ranking.scorer import Scorer

Params = dict[str, Any]


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
