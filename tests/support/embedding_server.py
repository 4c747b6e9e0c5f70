"""A real OpenAI-compatible /v1/embeddings server on loopback, serving the packaged MiniLM.

Tests run the OpenAI encoder against it over HTTP, the way it meets vLLM in production.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from retrieval.encoders import Encoder


class EmbeddingsRequest(BaseModel):
    model: str
    input: str | list[str]


def embeddings_app(encoder: Encoder) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/embeddings")
    def embeddings(request: EmbeddingsRequest) -> dict:
        texts = [request.input] if isinstance(request.input, str) else request.input
        vectors = encoder.encode(texts)
        # Scaled, not unit length: the client must normalise, as with some real servers.
        rows = [
            {"object": "embedding", "index": i, "embedding": (2.0 * v).tolist()}
            for i, v in reversed(list(enumerate(vectors)))
        ]
        return {"object": "list", "data": rows, "model": request.model}

    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run the app on a free loopback port in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test embeddings server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
