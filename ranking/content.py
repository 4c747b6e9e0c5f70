"""Content-only baseline: a history is the (recency-weighted) mean of its items' text vectors.

Items are ranked by cosine to that profile. It needs no interactions at all, so it is the
reference for cold and tail items, which collaborative filtering cannot rank.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ranking.scorer import Scorer, TrainingData
from retrieval.encoder_factory import build_encoder
from retrieval.encoders import Encoder
from retrieval.item_vectors import item_text_vectors

# Title and description only: Amazon categories are coded labels ("Office category 6") and
# their brands already end the title, so adding them only adds noise. On Amazon Office the
# text is then the title alone, which reproduces the content rows of docs ANCHORS.md.
CONTENT_TEMPLATE = "{title}. {description}"


class ContentScorer(Scorer):
    """Profile = Σ decay**age × item vector (age 0 = the latest item); decay 1 = plain mean.

    `model` "" uses the configured encoder (settings `encoder.*`) as it is.
    """

    name = "content"

    def __init__(
        self, model: str = "", template: str = CONTENT_TEMPLATE, decay: float = 1.0
    ) -> None:
        self.model = model
        self.template = template
        self.decay = decay
        self.item_vectors = np.zeros((0, 0), dtype=np.float32)

    def fit(self, data: TrainingData) -> ContentScorer:
        self.item_vectors = item_text_vectors(
            data.products, load_encoder(self.model), self.template
        )
        self.n_items = data.n_items
        return self

    def refit(self, data: TrainingData) -> ContentScorer:
        """Item texts are all it learns, and interactions do not change them."""
        return self

    def _score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        profiles = np.zeros((len(histories), self.item_vectors.shape[1]), dtype=np.float32)
        for row, history in enumerate(histories):
            if len(history):
                weights = self.decay ** np.arange(len(history) - 1, -1, -1, dtype=np.float32)
                profiles[row] = weights @ self.item_vectors[history]
        norms = np.linalg.norm(profiles, axis=1, keepdims=True)
        return (profiles / np.maximum(norms, 1e-12)) @ self.item_vectors.T

    def params(self) -> dict[str, str | float]:
        return {"model": self.model, "template": self.template, "decay": self.decay}

    def state(self) -> dict[str, np.ndarray]:
        return {"item_vectors": self.item_vectors}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        self.item_vectors = state["item_vectors"]


def load_encoder(model: str) -> Encoder:
    """The semantic visor's encoder from the settings (packaged MiniLM by default).

    A non-empty `model` overrides the configured model name; tests swap in a small fake.
    """
    from core.settings import load_settings

    settings = load_settings().encoder
    return build_encoder(settings.model_copy(update={"model": model}) if model else settings)
