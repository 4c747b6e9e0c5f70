"""Implicit-feedback matrix factorisation (ALS, Hu et al. 2008) from the `implicit` library.

A request-time history is folded in: its user vector is solved against the fixed item
factors (implicit's `recalculate_user`), so any history, including an anonymous session
or an evaluation query, is scored without refitting.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from implicit.cpu.als import AlternatingLeastSquares
from threadpoolctl import ThreadpoolController, threadpool_limits

from ranking.interactions import binary_matrix
from ranking.scorer import Scorer, TrainingData


class ALSScorer(Scorer):
    """Confidence = alpha per interaction; BLAS is held to one thread, as implicit advises."""

    name = "als"

    def __init__(
        self,
        factors: int = 128,
        regularization: float = 0.01,
        alpha: float = 10.0,
        iterations: int = 30,
        seed: int = 7,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.seed = seed
        self.item_factors = np.zeros((0, factors), dtype=np.float32)
        self._fold_in: AlternatingLeastSquares | None = None  # keeps implicit's YtY cache

    def fit(self, data: TrainingData) -> ALSScorer:
        users = binary_matrix(data.sequences, data.n_items)
        with threadpool_limits(1, "blas"):
            model = self._model()
            model.fit(users, show_progress=False)
        self.item_factors = np.asarray(model.item_factors, dtype=np.float32)
        self.n_items = data.n_items
        self._fold_in = None
        return self

    def _score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        with _blas().limit(limits=1, user_api="blas"):
            if self._fold_in is None:
                # One model for every request: implicit caches YtY (items' Gram matrix) on
                # it, which a fresh model recomputes each time (~10 ms a request at 6k items).
                self._fold_in = self._model()
                self._fold_in.item_factors = self.item_factors
            users = self._fold_in.recalculate_user(
                np.arange(len(histories)), binary_matrix(histories, self.n_items)
            )
        return users @ self.item_factors.T

    def _model(self) -> AlternatingLeastSquares:
        return AlternatingLeastSquares(
            factors=self.factors,
            regularization=self.regularization,
            alpha=self.alpha,
            iterations=self.iterations,
            random_state=self.seed,
            num_threads=1,
        )

    def params(self) -> dict[str, int | float]:
        return {
            "factors": self.factors,
            "regularization": self.regularization,
            "alpha": self.alpha,
            "iterations": self.iterations,
            "seed": self.seed,
        }

    def state(self) -> dict[str, np.ndarray]:
        return {"item_factors": self.item_factors}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        self.item_factors = state["item_factors"]
        self._fold_in = None


_CONTROLLER: ThreadpoolController | None = None


def _blas() -> ThreadpoolController:
    """One controller per process: building it scans the loaded libraries (~8 ms)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER
