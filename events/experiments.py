"""A/B experiments: named variants, a traffic split, and deterministic assignment.

An experiment file (`api.experiments_file`, JSON) lists experiments; the first one whose
`active` is true serves `/v1/recommend`. A unit (the shopper's `user_id`, else the session)
is assigned by hashing `experiment name + unit` onto [0, 1) and walking the split, so the
same shopper sees the same variant on every replica and after a restart, with no state.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.errors import LongtailError

METRICS = ("click_through", "conversion", "tail_exposure_share", "revenue_per_unit", "recall")


class ExperimentError(LongtailError):
    """An experiment file that cannot be used (names the file and the field)."""


class Variant(BaseModel):
    """What differs between arms; fields left out keep the server's configuration."""

    model_config = ConfigDict(extra="forbid")
    tail_knob: float | None = Field(None, ge=0, le=1)
    prompt_versions: dict[str, int] | None = None  # chat: prompt name -> version
    agent_mode: Literal["tools", "guided"] | None = None
    # A model version (`longtail models list`) whose hybrid ranker ranks for this arm.
    model_version: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")


class Experiment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    active: bool = True
    variants: dict[str, Variant] = Field(..., min_length=2)
    split: dict[str, float] = Field(..., description="variant -> share of traffic (sums to 1)")
    control: str = Field(..., description="the variant the others are compared with")
    metrics: list[Literal[METRICS]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(METRICS[:4])
    )
    unit: Literal["user", "session"] = "user"
    # The fixed-horizon stopping rule: units per arm to detect this absolute difference in the
    # first metric with two-sided `alpha` and `power`; read the result only once reached.
    min_detectable_effect: float = Field(0.02, gt=0)
    alpha: float = Field(0.05, gt=0, lt=0.5)
    power: float = Field(0.8, gt=0.5, lt=1)

    @model_validator(mode="after")
    def _consistent(self) -> Experiment:
        if set(self.split) != set(self.variants):
            raise ValueError(
                f"split names {sorted(self.split)} but variants are {sorted(self.variants)}"
            )
        if any(share <= 0 for share in self.split.values()):
            raise ValueError("every split share must be above 0")
        if abs(sum(self.split.values()) - 1.0) > 1e-6:
            raise ValueError(f"split shares sum to {sum(self.split.values()):g}, not 1")
        if self.control not in self.variants:
            raise ValueError(f"control {self.control!r} is not a variant")
        return self

    def agent_config(self, variant: str) -> dict[str, object]:
        """The AgentConfig fields a chat turn of `variant` changes."""
        v = self.variants[variant]
        changes = {"tail_knob": v.tail_knob, "prompt_versions": v.prompt_versions}
        changes["mode"] = v.agent_mode
        return {k: value for k, value in changes.items() if value is not None}

    def assign(self, unit_id: str) -> str:
        """The unit's variant: a stable hash of experiment and unit, walked along the split."""
        digest = hashlib.sha256(f"{self.name}\0{unit_id}".encode()).digest()
        point = int.from_bytes(digest[:8], "big") / 2**64
        edge = 0.0
        for name, share in self.split.items():
            edge += share
            if point < edge:
                return name
        return next(reversed(self.split))  # rounding at the very top


def load_experiments(path: Path) -> list[Experiment]:
    """The experiments in a JSON file: {"experiments": [...]}; errors name file and field."""
    try:
        raw = json.loads(Path(path).read_text())
    except OSError as exc:
        raise ExperimentError(f"{path}: cannot read the experiments file: {exc}") from None
    except ValueError as exc:
        raise ExperimentError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("experiments"), list):
        raise ExperimentError(f"{path}: expected an object with an 'experiments' list")
    experiments = []
    for n, entry in enumerate(raw["experiments"]):
        try:
            experiments.append(Experiment.model_validate(entry))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            field = f" field {where}" if where else ""
            raise ExperimentError(
                f"{path}: experiments[{n}]{field}: {first.get('msg', 'invalid')}"
            ) from None
    names = [e.name for e in experiments]
    if len(set(names)) != len(names):
        raise ExperimentError(f"{path}: experiment names repeat: {names}")
    return experiments


def active(experiments: list[Experiment]) -> Experiment | None:
    return next((e for e in experiments if e.active), None)
