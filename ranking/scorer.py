"""The one contract every recommender in longtail implements: a history in, a score per item out.

Scorers work on dense item indices (see `catalog.Dataset`). They score *any* history, not
only users seen at training time, so an anonymous chat session is served the same way as
an evaluation query (implicit's `recalculate_user`, made the default).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from catalog.models import Product
from core.atomic import current, replaced_folder
from core.errors import LongtailError


class ScorerError(LongtailError):
    """Bad input to a scorer (unknown item index) or an artifact that does not fit."""


@dataclass
class TrainingData:
    """What a scorer may learn from: the catalog and training sequences, never test targets.

    `validation` holds (history, target) pairs for tuning and early stopping only;
    `validation_signals` adds request-time signal rows (LLM candidates) for some of them,
    keyed by the history's bytes, so that a model can learn what those signals are worth.
    """

    products: list[Product]
    sequences: list[np.ndarray]  # per user: item indices, oldest first
    events: list[np.ndarray] = field(default_factory=list)  # per user: event codes, aligned
    validation: list[tuple[np.ndarray, int]] = field(default_factory=list)
    validation_signals: dict[bytes, dict[str, np.ndarray]] = field(default_factory=dict)
    fingerprint: str = ""  # of the catalog and log the data came from

    @property
    def n_items(self) -> int:
        return len(self.products)

    def item_counts(self) -> np.ndarray:
        """Training interactions per item."""
        if not self.sequences:
            return np.zeros(self.n_items, dtype=np.int64)
        return np.bincount(np.concatenate(self.sequences), minlength=self.n_items)


class Scorer(ABC):
    """Fit on TrainingData; score histories over all items; save and load."""

    name: ClassVar[str]
    n_items: int = 0

    @abstractmethod
    def fit(self, data: TrainingData) -> Scorer:
        """Learn from the training data; returns self."""

    @abstractmethod
    def _score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """Scores of shape (len(histories), n_items); higher is better."""

    def score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """Validated scores of shape (len(histories), n_items) for request-time histories."""
        if self.n_items <= 0:
            raise ScorerError(f"{self.name}: score() called before fit() or load()")
        self.check_items(histories)
        if not histories:
            return np.zeros((0, self.n_items), dtype=np.float32)
        return np.asarray(self._score(histories), dtype=np.float32)

    def refit(self, data: TrainingData) -> Scorer:
        """This model, its choices kept (hyper-parameters, epochs), trained anew on `data`:
        the training part with the validation targets folded back in, so that requests
        after the validation period are ranked knowing it. `data` has no validation pairs,
        so nothing is chosen again. The default refits a model of the same parameters."""
        return type(self)(**self.refit_params()).fit(data)

    def refit_params(self) -> dict[str, Any]:
        """The constructor arguments of a refit (the saved parameters, by default)."""
        return self.params()

    def check_items(self, histories: Sequence[np.ndarray]) -> None:
        """A ScorerError naming the first item index outside the catalog."""
        for history in histories:
            if len(history) and (np.min(history) < 0 or np.max(history) >= self.n_items):
                bad = [int(i) for i in history if i < 0 or i >= self.n_items]
                raise ScorerError(
                    f"{self.name}: unknown item index {bad[0]} (catalog has {self.n_items} items)"
                )

    def recommend(
        self, history: np.ndarray, k: int, exclude: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k item indices and scores, excluding the history (and `exclude`)."""
        scores = self.score([np.asarray(history, dtype=np.int64)])[0]
        scores[np.asarray(history, dtype=np.int64)] = -np.inf
        if exclude is not None:
            scores[np.asarray(exclude, dtype=np.int64)] = -np.inf
        k = min(k, int(np.isfinite(scores).sum()))
        top = np.argpartition(-scores, k - 1)[:k] if k else np.array([], dtype=np.int64)
        top = top[np.argsort(-scores[top], kind="stable")]
        return top, scores[top]

    # Persistence: a folder with config.json (name, params, fingerprint) and arrays.npz.
    def params(self) -> dict[str, Any]:
        """Hyper-parameters, saved with the model and shown in reports."""
        return {}

    @classmethod
    def saved_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        """Saved hyper-parameters as this version's constructor takes them (a scorer whose
        defaults changed maps what older saves left out to what they were trained with)."""
        return params

    def state(self) -> dict[str, np.ndarray]:
        """Learned arrays to save."""
        return {}

    def set_state(self, state: dict[str, np.ndarray]) -> None:  # noqa: B027 - optional hook
        """Restore learned arrays saved by `state()`; scorers without arrays keep the default."""

    def save(self, folder: Path, fingerprint: str = "") -> None:
        """Write the model to `folder` as one step (core.atomic): a save killed
        half-way leaves the previous model there, whole."""
        with replaced_folder(folder) as staging:
            self.write_files(staging, fingerprint)

    def write_files(self, folder: Path, fingerprint: str = "") -> None:
        """The model's files in `folder` (an empty staging folder; see `save`)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        config = {
            "name": self.name,
            "params": self.params(),
            "n_items": self.n_items,
            "fingerprint": fingerprint,
        }
        np.savez(folder / "arrays.npz", **self.state())
        (folder / "config.json").write_text(json.dumps(config, indent=2))

    @classmethod
    def load(cls, folder: Path, fingerprint: str = "") -> Scorer:
        """Load a saved scorer; refuses one trained on another catalog (fingerprint mismatch)."""
        folder = current(folder)
        config_path = folder / "config.json"
        if not config_path.is_file():
            raise ScorerError(f"{folder}: no saved scorer here (config.json missing)")
        config = json.loads(config_path.read_text())
        if config.get("name") != cls.name:
            raise ScorerError(f"{folder}: holds a {config.get('name')!r} scorer, not {cls.name!r}")
        if fingerprint and config.get("fingerprint") and config["fingerprint"] != fingerprint:
            raise ScorerError(
                f"{folder}: trained on data with fingerprint {config['fingerprint']}, but the "
                f"current catalog has {fingerprint}; retrain with `longtail train`"
            )
        scorer = cls(**cls.saved_params(config["params"]))
        scorer.n_items = int(config["n_items"])
        with np.load(folder / "arrays.npz", allow_pickle=False) as arrays:
            scorer.set_state({k: arrays[k] for k in arrays.files})
        return scorer
