"""The encoder the settings name. Kept apart from the encoder contract (`encoders.py`) so
that the implementations import the contract and this module imports them: no circle."""

from __future__ import annotations

import os

from core.settings import EncoderSettings
from retrieval.encoders import Encoder, SentenceTransformerEncoder
from retrieval.onnx_encoder import OnnxEncoder
from retrieval.openai_encoder import OpenAIEncoder


def build_encoder(settings: EncoderSettings) -> Encoder:
    """The encoder the settings name; a bad model path or an unreachable endpoint is an
    EncoderError here, before any work starts."""
    if settings.kind == "openai":
        return OpenAIEncoder(
            url=settings.url,
            model=settings.model,
            batch_size=settings.batch_size,
            api_key=os.environ.get(settings.api_key_env, ""),
            timeout=settings.timeout,
        )
    if settings.kind == "onnx":
        return OnnxEncoder(settings.model, batch_size=settings.batch_size, threads=settings.threads)
    return SentenceTransformerEncoder(settings.model, batch_size=settings.batch_size)
