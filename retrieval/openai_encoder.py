"""An encoder behind an OpenAI-compatible `/v1/embeddings` endpoint (vLLM, llama.cpp, OpenAI).

This is how a larger LLM-based encoder plugs in without running it in this process. The
endpoint's vectors are re-normalised here, since not every server returns unit vectors.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import numpy as np
from tqdm import tqdm

from retrieval.encoders import Encoder, EncoderError

PROBE_TEXT = "dimension probe"


def embeddings_url(base_url: str) -> str:
    """`http://host:port`, `.../v1` and `.../v1/embeddings` all name the same endpoint."""
    url = base_url.strip().rstrip("/")
    if url.endswith("/embeddings"):
        return url
    if not url.endswith("/v1"):
        url += "/v1"
    return url + "/embeddings"


class OpenAIEncoder(Encoder):
    """Texts are posted in batches; the dimension is learned from one probe at start-up."""

    def __init__(
        self,
        url: str,
        model: str,
        batch_size: int = 64,
        api_key: str = "",
        timeout: float = 60.0,
    ) -> None:
        if not url.strip():
            raise EncoderError(
                "encoder.kind is 'openai' but encoder.url is empty; set it, e.g. "
                "LONGTAIL_ENCODER__URL=http://127.0.0.1:8000/v1"
            )
        self.name = model
        self.batch_size = batch_size
        self.endpoint = embeddings_url(url)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            timeout=timeout, headers=headers, transport=httpx.HTTPTransport(retries=2)
        )
        self.dim = int(self._post([PROBE_TEXT]).shape[1])

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        starts = range(0, len(texts), self.batch_size)
        batches = [
            self._post(texts[start : start + self.batch_size])
            for start in tqdm(starts, disable=not progress, unit="batch", desc="encoding")
        ]
        vectors = np.vstack(batches)
        if vectors.shape[1] != self.dim:
            raise EncoderError(
                f"{self.endpoint} changed dimension: {vectors.shape[1]}, was {self.dim}"
            )
        return vectors

    def _post(self, texts: Sequence[str]) -> np.ndarray:
        try:
            response = self._client.post(
                self.endpoint, json={"model": self.name, "input": list(texts)}
            )
        except httpx.HTTPError as exc:
            raise EncoderError(
                f"cannot reach the embeddings endpoint {self.endpoint} ({exc}); is the server "
                "running, and is encoder.url right?"
            ) from exc
        if response.status_code != 200:
            raise EncoderError(
                f"the embeddings endpoint {self.endpoint} answered {response.status_code}: "
                f"{response.text[:300]}"
            )
        try:
            rows = sorted(response.json()["data"], key=lambda row: row["index"])
            vectors = np.asarray([row["embedding"] for row in rows], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            raise EncoderError(
                f"the embeddings endpoint {self.endpoint} gave an answer that is not an "
                f"OpenAI embeddings response: {exc!r}"
            ) from exc
        if vectors.ndim != 2 or vectors.shape[0] != len(texts):
            raise EncoderError(
                f"the embeddings endpoint {self.endpoint} gave {vectors.shape[0]} vectors for "
                f"{len(texts)} texts"
            )
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        if not np.all(norms > 0):
            raise EncoderError(f"the embeddings endpoint {self.endpoint} gave a zero vector")
        return vectors / norms
