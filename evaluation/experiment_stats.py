"""Per-variant results of an A/B experiment, read back from the event log.

Each unit (shopper or session) is one observation: its click-through (clicked exposures /
exposures), conversion (bought any exposed item), tail exposure share and revenue. Means
get normal-approximation 95% intervals over units, and each variant's difference from the
control a Welch interval and two-sided p-value. The stopping rule is a fixed horizon: the
units per arm needed to detect `min_detectable_effect` in the first metric at `alpha` with
`power`; a result is read only once every arm has them (no peeking).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

from events.experiments import Experiment
from events.log import EventStore

Z95 = NormalDist().inv_cdf(0.975)


@dataclass
class UnitOutcome:
    variant: str
    exposures: int = 0
    tail_exposures: int = 0
    clicks: int = 0
    purchases: int = 0
    revenue: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)  # e.g. recall, where a replay knows

    def metric(self, name: str) -> float:
        if name == "click_through":
            return self.clicks / self.exposures if self.exposures else 0.0
        if name == "conversion":
            return 1.0 if self.purchases else 0.0
        if name == "tail_exposure_share":
            return self.tail_exposures / self.exposures if self.exposures else 0.0
        if name == "revenue_per_unit":
            return self.revenue
        return self.extra[name]


def unit_outcomes(
    store: EventStore,
    experiment: Experiment,
    is_tail: Callable[[str], bool],
    price: Callable[[str], float | None],
) -> dict[str, UnitOutcome]:
    """Per unit: what its variant showed, and its views and purchases of shown items."""
    units: dict[str, UnitOutcome] = {}
    shown: dict[str, set[str]] = defaultdict(set)
    for exposure in store.exposures(experiment.name):
        outcome = units.setdefault(exposure.unit, UnitOutcome(exposure.variant))
        outcome.exposures += 1
        outcome.tail_exposures += is_tail(exposure.item_id)
        shown[exposure.unit].add(exposure.item_id)
    for event in store.read():
        unit = event.user_id if experiment.unit == "user" and event.user_id else event.session_id
        if unit not in units or event.item_id not in shown[unit]:
            continue
        if event.event == "view":
            units[unit].clicks += 1
        elif event.event == "purchase":
            units[unit].purchases += 1
            units[unit].revenue += price(event.item_id) or 0.0
    return units


def mean_interval(values: list[float]) -> dict[str, float]:
    n = len(values)
    mean = sum(values) / n if n else 0.0
    var = sum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    half = Z95 * math.sqrt(var / n) if n else 0.0
    return {"mean": mean, "low": mean - half, "high": mean + half, "sd": math.sqrt(var), "n": n}


def difference(treatment: list[float], control: list[float]) -> dict[str, float]:
    """Treatment minus control: Welch's normal interval and two-sided p-value."""
    t, c = mean_interval(treatment), mean_interval(control)
    diff = t["mean"] - c["mean"]
    se = math.sqrt(t["sd"] ** 2 / max(t["n"], 1) + c["sd"] ** 2 / max(c["n"], 1))
    p = 2 * (1 - NormalDist().cdf(abs(diff) / se)) if se > 0 else (0.0 if diff else 1.0)
    return {"diff": diff, "low": diff - Z95 * se, "high": diff + Z95 * se, "p_value": p}


def units_needed(sd_control: float, sd_treatment: float, experiment: Experiment) -> int:
    """Fixed-horizon sample size per arm for the experiment's minimum detectable effect."""
    z = NormalDist().inv_cdf(1 - experiment.alpha / 2) + NormalDist().inv_cdf(experiment.power)
    variance = sd_control**2 + sd_treatment**2
    return max(2, math.ceil(z**2 * variance / experiment.min_detectable_effect**2))


def summarize(
    units: dict[str, UnitOutcome], experiment: Experiment, metrics: list[str] | None = None
) -> dict[str, Any]:
    """Per-variant means with intervals, differences from control, and the stopping rule."""
    metrics = metrics or list(experiment.metrics)
    by_variant: dict[str, list[UnitOutcome]] = {v: [] for v in experiment.variants}
    for outcome in units.values():
        by_variant.setdefault(outcome.variant, []).append(outcome)
    values = {
        v: {m: [o.metric(m) for o in outcomes] for m in metrics}
        for v, outcomes in by_variant.items()
    }
    control = values[experiment.control]
    first = metrics[0]
    report: dict[str, Any] = {"experiment": experiment.name, "control": experiment.control}
    report["variants"] = {
        v: {"units": len(by_variant[v]), **{m: mean_interval(vals[m]) for m in metrics}}
        for v, vals in values.items()
    }
    report["versus_control"] = {
        v: {m: difference(vals[m], control[m]) for m in metrics}
        for v, vals in values.items()
        if v != experiment.control
    }
    needed = max(
        (
            units_needed(
                report["variants"][experiment.control][first]["sd"],
                report["variants"][v][first]["sd"],
                experiment,
            )
            for v in values
            if v != experiment.control
        ),
        default=2,
    )
    smallest = min(len(outcomes) for outcomes in by_variant.values())
    report["stopping_rule"] = {
        "rule": "fixed horizon: read once every arm has the units a two-sided z-test needs",
        "metric": first,
        "min_detectable_effect": experiment.min_detectable_effect,
        "alpha": experiment.alpha,
        "power": experiment.power,
        "units_needed_per_arm": needed,
        "smallest_arm": smallest,
        "reached": smallest >= needed,
    }
    return report
