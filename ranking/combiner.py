"""The hybrid ranker's learned combination: a listwise logistic regression over features.

Trained on validation requests: for each, a softmax over its candidates, maximising the
probability of the item the shopper actually took next (a conditional logit, i.e.
multinomial logistic regression whose classes are the candidates). Features are
standardised first, so each weight is comparable and `weight × standardised feature` is
that feature's contribution to a candidate's score, which explanations quote.

Fallback: a feature that never varies in the training requests (the chat message and
BM25 in leave-last-out evaluation, LLM candidates when no LLM ran) cannot be learned and
keeps its `FIXED_WEIGHTS` entry; with no training requests at all every weight is fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ranking.hybrid_features import FEATURES, GROUP

# Used where a weight cannot be learned; chosen by hand on the demo store, features are
# z-scores or in [0, 1], so these read as "how many standard deviations is this worth".
FIXED_WEIGHTS = {
    "semantic_z": 1.0,
    "semantic_rank": 0.5,
    "message_z": 2.0,
    "message_rank": 1.0,
    "sparse_z": 0.5,
    "sparse_rank": 0.5,
    "intent_z": 1.0,
    "intent_rank": 0.5,
    "knn_z": 0.5,
    "knn_rank": 0.25,
    "als_z": 0.5,
    "als_rank": 0.25,
    "markov_z": 0.5,
    "markov_rank": 0.25,
    "llm_z": 1.0,
    "llm_rank": 0.5,
    "popularity": 0.0,
    "recent_popularity": 0.0,
    "category_share": 0.5,
    "price_fit": 0.2,
}
L2 = 1e-3


@dataclass
class Featurised:
    """One training request's candidates and features, and where its target is."""

    candidates: np.ndarray  # (C,) item indices; -1 pads (training_batch masks them)
    features: np.ndarray  # (C, len(FEATURES))
    target: int  # item index


def training_batch(
    featurised: list[Featurised],
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The requests whose target is a candidate, padded for `Combiner.fit`: features
    (Q, C, F), candidate mask (Q, C) and the target's column (Q,); None if there are none."""
    usable = [(f, np.flatnonzero(f.candidates == f.target)) for f in featurised]
    usable = [(f, hit) for f, hit in usable if len(hit)]
    if not usable:
        return None
    width = max(len(f.candidates) for f, _ in usable)
    x = np.zeros((len(usable), width, len(FEATURES)), dtype=np.float32)
    valid = np.zeros((len(usable), width), dtype=bool)
    for row, (f, _) in enumerate(usable):
        x[row, : len(f.candidates)] = f.features
        valid[row, : len(f.candidates)] = f.candidates >= 0
    return x, valid, np.array([int(hit[0]) for _, hit in usable])


class Combiner:
    """score = Σ_f weight_f × (x_f − mean_f) / scale_f over `active` features."""

    def __init__(self, active: tuple[str, ...] = FEATURES) -> None:
        self.active = np.array([name in active for name in FEATURES])
        self.mean = np.zeros(len(FEATURES), dtype=np.float32)
        self.scale = np.ones(len(FEATURES), dtype=np.float32)
        self.weights = np.array(
            [FIXED_WEIGHTS[n] if a else 0.0 for n, a in zip(FEATURES, self.active, strict=True)],
            dtype=np.float32,
        )
        self.learned = np.zeros(len(FEATURES), dtype=bool)

    def fit(
        self,
        features: np.ndarray,
        valid: np.ndarray,
        target: np.ndarray,
        only: tuple[str, ...] | None = None,
    ) -> Combiner:
        """features (Q, C, F), valid (Q, C) candidate mask, target (Q,) column of the truth.

        With `only`, just those features are learned; every other weight (and its
        standardisation) stays as it is, so a few requests can set one signal's worth."""
        if len(target) == 0:
            return self
        rows = features[valid]
        mean, scale = rows.mean(axis=0), rows.std(axis=0)
        chosen = self.active & (scale > 1e-6)
        if only is None:
            self.learned = chosen
            self.mean = np.where(chosen, mean, 0.0).astype(np.float32)
            self.scale = np.where(chosen, scale, 1.0).astype(np.float32)
        else:
            chosen &= np.array([name in only for name in FEATURES])
            self.learned = self.learned | chosen
            self.mean = np.where(chosen, mean, self.mean).astype(np.float32)
            self.scale = np.where(chosen, scale, self.scale).astype(np.float32)
        x = torch.from_numpy(((features - self.mean) / self.scale).astype(np.float32))
        mask = torch.from_numpy(valid)
        y = torch.from_numpy(np.asarray(target, dtype=np.int64))
        fixed = torch.from_numpy(np.where(chosen, 0.0, self.weights).astype(np.float32))
        learn = torch.from_numpy(chosen.astype(np.float32))
        w = torch.zeros(len(FEATURES), requires_grad=True)
        optimizer = torch.optim.LBFGS([w], max_iter=200, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            optimizer.zero_grad()
            logits = x @ (w * learn + fixed)
            logits = logits.masked_fill(~mask, -1e9)
            loss = torch.nn.functional.cross_entropy(logits, y) + L2 * (w * learn).pow(2).sum()
            loss.backward()
            return loss

        optimizer.step(closure)
        learned = w.detach().numpy()
        self.weights = np.where(chosen, learned, self.weights).astype(np.float32)
        return self

    def copy(self) -> Combiner:
        """An independent combiner with the same weights (to refit part of it)."""
        twin = Combiner()
        twin.set_state({k: np.array(v, copy=True) for k, v in self.state().items()})
        return twin

    def score(self, features: np.ndarray) -> np.ndarray:
        """Scores of shape features.shape[:-1]."""
        return ((features - self.mean) / self.scale) @ self.weights

    def contributions(self, features: np.ndarray) -> dict[str, float]:
        """Per explanation signal (semantic, intent, cf, ...), its share of one score."""
        parts = ((features - self.mean) / self.scale) * self.weights
        out: dict[str, float] = {}
        for name, value, active in zip(FEATURES, parts, self.active, strict=True):
            if active:
                group = GROUP[name]
                out[group] = out.get(group, 0.0) + float(value)
        return out

    def describe(self) -> list[dict[str, float | str | bool]]:
        """The weights as rows for reports and the staff console."""
        return [
            {"feature": n, "signal": GROUP[n], "weight": round(float(w), 4), "learned": bool(lr)}
            for n, w, a, lr in zip(FEATURES, self.weights, self.active, self.learned, strict=True)
            if a
        ]

    def state(self) -> dict[str, np.ndarray]:
        return {
            "active": self.active,
            "mean": self.mean,
            "scale": self.scale,
            "weights": self.weights,
            "learned": self.learned,
        }

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        self.active = state["active"].astype(bool)
        self.mean = state["mean"]
        self.scale = state["scale"]
        self.weights = state["weights"]
        self.learned = state["learned"].astype(bool)
