"""The one client configuration, and health checks against servers that are down or slow."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.settings import LLMSettings, load_settings
from serving.client import (
    NO_KEY,
    LLMConfig,
    LLMError,
    LLMUnavailable,
    chat,
    chat_model,
    ensure_llm,
    health_check,
    normalize_base_url,
    openai_client,
)
from serving.embedded import free_port


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:8010", "http://127.0.0.1:8010/v1"),
        ("http://127.0.0.1:8010/", "http://127.0.0.1:8010/v1"),
        ("http://127.0.0.1:8010/v1/", "http://127.0.0.1:8010/v1"),
        ("127.0.0.1:8010", "http://127.0.0.1:8010/v1"),
        ("https://llm.example/openai/v1", "https://llm.example/openai/v1"),
    ],
)
def test_base_url_is_normalized(given: str, expected: str) -> None:
    assert normalize_base_url(given) == expected


def test_config_comes_from_settings_and_the_key_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LONGTAIL_LLM__URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("LONGTAIL_LLM__TIMEOUT_S", "7.5")
    monkeypatch.setenv("LONGTAIL_LLM__MAX_RETRIES", "4")
    monkeypatch.setenv("MY_LLM_KEY", "sk-test")
    monkeypatch.setenv("LONGTAIL_LLM__API_KEY_ENV", "MY_LLM_KEY")
    settings = load_settings()
    config = LLMConfig.from_settings(settings)
    assert config.base_url == "http://127.0.0.1:9/v1"
    assert (config.timeout_s, config.max_retries) == (7.5, 4)
    assert config.api_key == "sk-test" and "sk-test" not in repr(config)
    client = openai_client(config)
    assert str(client.base_url).rstrip("/") == config.base_url
    assert (client.timeout, client.max_retries, client.api_key) == (7.5, 4, "sk-test")
    lc = chat_model(config)
    assert (lc.model_name, str(lc.openai_api_base)) == (config.model, config.base_url)
    assert (lc.max_retries, lc.max_tokens, lc.temperature) == (4, 512, 0.2)


def test_without_a_key_variable_a_placeholder_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LONGTAIL_LLM_API_KEY", raising=False)
    assert LLMConfig.from_settings(LLMSettings(url="x:1")).api_key == NO_KEY


def test_api_key_is_not_a_settings_key() -> None:
    with pytest.raises(ValueError):
        LLMSettings(api_key="sk-in-a-file")  # type: ignore[call-arg]


def test_no_url_is_a_clear_error() -> None:
    with pytest.raises(LLMError, match=r"llm\.url"):
        LLMConfig.from_settings(LLMSettings())


def test_server_down_is_reported_as_down() -> None:
    config = LLMConfig(base_url=f"http://127.0.0.1:{free_port()}/v1", model="m", timeout_s=5)
    health = health_check(config)
    assert (health.ok, health.status) == (False, "down")
    assert config.base_url in health.message and "llm serve" in health.message
    with pytest.raises(LLMUnavailable) as raised:
        chat(config.with_(max_retries=0), [{"role": "user", "content": "hi"}])
    assert raised.value.status == "down"


def test_ensure_llm_with_a_dead_url_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LONGTAIL_LLM__URL", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(LLMUnavailable) as raised:
        ensure_llm(load_settings())
    assert raised.value.status == "down"


class _SlowHandler(BaseHTTPRequestHandler):
    """Lists one model at once, then takes `delay` seconds over every completion."""

    delay = 3.0

    def do_GET(self) -> None:
        self._send(b'{"object": "list", "data": [{"id": "m", "owned_by": "test"}]}')

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        time.sleep(self.delay)
        self._send(
            b'{"choices": [{"index": 0, "message": {"role": "assistant", "content": "OK"}}]}'
        )

    def _send(self, body: bytes) -> None:
        try:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_slow_server_is_reported_as_slow(slow_server: str) -> None:
    config = LLMConfig(base_url=slow_server, model="m", timeout_s=0.5, max_retries=0)
    assert health_check(config, generate=False).ok  # it is up...
    health = health_check(config)  # ...but cannot answer within timeout_s
    assert (health.ok, health.status) == (False, "slow")
    assert slow_server in health.message and "timeout_s" in health.message


def test_wrong_model_name_is_named(slow_server: str) -> None:
    health = health_check(LLMConfig(base_url=slow_server, model="other"), generate=False)
    assert (health.ok, health.status) == (False, "error")
    assert "'other'" in health.message and "m" in health.models


def test_check_command_on_a_dead_server_exits_1() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    result = subprocess.run(
        [sys.executable, "-m", "longtail", "llm", "check", "--url", url, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    import json

    report = json.loads(result.stdout)
    assert report["ok"] is False and report["reachable"] is False
    assert report["tool_calls_ok"] is False and report["json_schema_ok"] is False
    assert report["errors"] and url in report["errors"][0]
