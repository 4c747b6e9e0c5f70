"""Fixtures of the reliability suite (besides the API runtime and the screens on loopback of
tests/support): a scriptable OpenAI-compatible HTTP server on loopback that can answer
with malformed JSON, broken tool calls or an "obedient" injected reply."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


def completion(content: str = "", tool_calls: list[dict[str, Any]] | None = None) -> bytes:
    """One OpenAI chat completion body; `tool_calls` as [{"name", "arguments" (a string)}]."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = [
            {"id": f"call_{n}", "type": "function", "function": call}
            for n, call in enumerate(tool_calls)
        ]
    return json.dumps(
        {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 0,
            "model": "scripted",
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if tool_calls else "stop",
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }
    ).encode()


@dataclass
class ScriptedLLMServer:
    """Answers POST /v1/chat/completions from `replies` (status, body), in order; when they
    run out, `default`. Every request body is kept in `requests`."""

    url: str
    replies: list[tuple[int, bytes]] = field(default_factory=list)
    default: tuple[int, bytes] = (200, completion("Here are some picks for you."))
    requests: list[dict[str, Any]] = field(default_factory=list)

    def next_reply(self, body: dict[str, Any]) -> tuple[int, bytes]:
        self.requests.append(body)
        return self.replies.pop(0) if self.replies else self.default


@pytest.fixture
def llm_server() -> Iterator[ScriptedLLMServer]:
    state: dict[str, ScriptedLLMServer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # /v1/models: an unknown flavour of server
            self._send(200, json.dumps({"data": [{"id": "scripted", "owned_by": "test"}]}).encode())

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            self._send(*state["server"].next_reply(body))

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["server"] = ScriptedLLMServer(url=f"http://127.0.0.1:{httpd.server_address[1]}/v1")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["server"]
    finally:
        httpd.shutdown()
        httpd.server_close()
