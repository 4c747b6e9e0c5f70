"""One contract for every encoder: shapes, unit norm, determinism, empty input; plus the
OpenAI-compatible encoder over real HTTP and its errors, and the ONNX encoder's equality
with the torch one it is exported from."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from fastapi import FastAPI

from core.settings import EncoderSettings
from retrieval.encoder_factory import build_encoder
from retrieval.encoders import Encoder, EncoderError, SentenceTransformerEncoder
from retrieval.onnx_encoder import OnnxEncoder
from retrieval.openai_encoder import OpenAIEncoder, embeddings_url
from tests.support.embedding_server import free_port, serve

TEXTS = [
    "waterproof hiking backpack with a rain cover",
    "cast iron skillet, pre-seasoned",
    "ergonomic office chair with lumbar support",
    "rain-proof trekking rucksack",
    "a",
]


@pytest.fixture(scope="module", params=["onnx", "sentence-transformers", "openai"])
def any_encoder(request: pytest.FixtureRequest) -> Encoder:
    if request.param == "openai":
        url = request.getfixturevalue("embeddings_url")
        return build_encoder(EncoderSettings(kind="openai", url=url, batch_size=2))
    return build_encoder(EncoderSettings(kind=request.param, batch_size=2))


def test_shape_dtype_and_unit_norm(any_encoder: Encoder) -> None:
    vectors = any_encoder.encode(TEXTS)
    assert vectors.shape == (len(TEXTS), any_encoder.dim) == (len(TEXTS), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_deterministic_and_independent_of_batching(any_encoder: Encoder) -> None:
    first = any_encoder.encode(TEXTS)
    np.testing.assert_allclose(any_encoder.encode(TEXTS), first, atol=1e-6)
    alone = np.vstack([any_encoder.encode([text]) for text in TEXTS])
    np.testing.assert_allclose(alone, first, atol=1e-4)


def test_empty_input_gives_an_empty_matrix(any_encoder: Encoder) -> None:
    assert any_encoder.encode([]).shape == (0, any_encoder.dim)


def test_meaning_is_captured(any_encoder: Encoder) -> None:
    backpack, skillet, _, rucksack, _ = any_encoder.encode(TEXTS)
    assert backpack @ rucksack > backpack @ skillet + 0.2


def test_openai_encoder_gives_the_models_vectors(embeddings_url: str, encoder: Encoder) -> None:
    remote = OpenAIEncoder(url=embeddings_url, model=encoder.name)
    assert (remote.name, remote.dim) == (encoder.name, encoder.dim)
    cosine = np.sum(remote.encode(TEXTS) * encoder.encode(TEXTS), axis=1)
    np.testing.assert_allclose(cosine, 1.0, atol=1e-5)


@pytest.mark.parametrize(
    "url",
    ["http://h:1", "http://h:1/", "http://h:1/v1", "http://h:1/v1/", "http://h:1/v1/embeddings"],
)
def test_embeddings_url_accepts_the_usual_spellings(url: str) -> None:
    assert embeddings_url(url) == "http://h:1/v1/embeddings"


def test_endpoint_down_is_a_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(EncoderError, match="cannot reach the embeddings endpoint"):
        build_encoder(EncoderSettings(kind="openai", url=url, timeout=5))


def test_missing_url_is_a_clear_error() -> None:
    with pytest.raises(EncoderError, match=r"encoder\.url is empty"):
        build_encoder(EncoderSettings(kind="openai"))


@pytest.fixture(scope="module")
def broken_endpoint() -> Iterator[str]:
    app = FastAPI()

    @app.post("/v1/embeddings")
    def embeddings(payload: dict) -> dict:
        if payload["model"] == "short":
            return {"data": [{"index": 0, "embedding": [1.0, 0.0]}]}
        return {"detail": "no such model"}

    with serve(app) as url:
        yield url


@pytest.mark.parametrize(
    ("model", "message"), [("other", "not an OpenAI embeddings response"), ("short", "gave 1")]
)
def test_answers_that_are_not_embeddings_are_clear_errors(
    broken_endpoint: str, model: str, message: str
) -> None:
    encoder = OpenAIEncoder(url=broken_endpoint, model="short")
    encoder.name = model
    with pytest.raises(EncoderError, match=message):
        encoder.encode(["one", "two"])


def test_unknown_model_path_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(EncoderError, match="nothing is downloaded"):
        SentenceTransformerEncoder(str(tmp_path / "no-such-model"))


def test_unknown_model_path_is_a_clear_error_for_onnx(tmp_path) -> None:
    with pytest.raises(EncoderError, match="not a sentence-transformers model folder"):
        OnnxEncoder(str(tmp_path / "no-such-model"), cache_dir=tmp_path)


def test_onnx_gives_the_torch_encoders_vectors(encoder: Encoder) -> None:
    """Same model, same store: queries, a text past the 256-token limit, odd characters,
    one text alone (the one-thread session) and a batch (the all-core one)."""
    texts = [
        *TEXTS,
        "Kaffeemühle 🙂 咖啡研磨机 — quiet",
        " ".join(["archival ink pen"] * 200),
        "\t\n  spaced\u00a0out  ",
    ]
    onnx = build_encoder(EncoderSettings(kind="onnx"))
    assert (onnx.name, onnx.dim) == (encoder.name, encoder.dim)
    np.testing.assert_allclose(onnx.encode(texts), encoder.encode(texts), atol=1e-5)
    np.testing.assert_allclose(onnx.encode(texts[-2:-1]), encoder.encode(texts[-2:-1]), atol=1e-5)


def test_onnx_export_is_cached_and_never_left_half_written(tmp_path, monkeypatch) -> None:
    from retrieval import onnx_encoder

    first = OnnxEncoder(cache_dir=tmp_path)
    graph = first._graph
    assert graph.parent == tmp_path and graph.stat().st_size > 10_000_000
    assert [p.name for p in tmp_path.iterdir()] == [graph.name]  # no partial file left

    def no_export(*args: object) -> None:
        raise AssertionError("exported again although the cache holds the graph")

    onnx_encoder.exported_graph.cache_clear()
    monkeypatch.setattr(onnx_encoder, "_export", no_export)
    assert OnnxEncoder(cache_dir=tmp_path)._graph == graph


def test_onnx_refuses_a_model_that_is_not_mean_pooled(tmp_path) -> None:
    import shutil

    from retrieval.encoders import PACKAGED_MODEL, resolve_model_path

    folder = tmp_path / "cls-model"
    shutil.copytree(resolve_model_path(PACKAGED_MODEL), folder)
    config = folder / "1_Pooling" / "config.json"
    config.write_text(
        config.read_text().replace(
            '"pooling_mode_mean_tokens": true', '"pooling_mode_mean_tokens": false'
        )
    )
    with pytest.raises(EncoderError, match="mean-pooled"):
        OnnxEncoder(str(folder), cache_dir=tmp_path / "cache")
