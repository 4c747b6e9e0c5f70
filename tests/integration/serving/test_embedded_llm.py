"""The embedded llama.cpp server, for real: one session server on the packaged Qwen 0.5B."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from core.settings import load_settings
from serving.client import LLMConfig, LLMUnavailable, chat, ensure_llm, health_check
from serving.embedded import EmbeddedServer
from serving.models import DEFAULT_MODEL
from tests.integration.serving import contract

pytestmark = pytest.mark.llm


def test_chat(embedded_llm: LLMConfig) -> None:
    contract.check_chat(embedded_llm)


def test_streaming(embedded_llm: LLMConfig) -> None:
    contract.check_streaming(embedded_llm)


def test_langchain_chat_model(embedded_llm: LLMConfig) -> None:
    contract.check_langchain(embedded_llm)


def test_json_schema_output(embedded_llm: LLMConfig) -> None:
    contract.check_json_schema(embedded_llm)


def test_forced_tool_call(embedded_llm: LLMConfig) -> None:
    contract.check_tool_call(embedded_llm)


def test_health_check(embedded_llm: LLMConfig) -> None:
    contract.check_health(embedded_llm)


def test_llm_check_command(embedded_llm: LLMConfig) -> None:
    report = contract.check_cli(embedded_llm)
    assert report["server"] == "llama.cpp"


def test_stopped_server_reads_as_down(packaged_model: Path, tmp_path: Path) -> None:
    server = EmbeddedServer(
        packaged_model, model_name=DEFAULT_MODEL, threads=1, log_path=tmp_path / "log"
    )
    server.start(timeout_s=300)
    config = LLMConfig(base_url=server.base_url, model=DEFAULT_MODEL, timeout_s=60)
    assert health_check(config, generate=False).ok
    pid = server.pid
    server.stop()
    assert pid is not None and not _alive(pid)
    health = health_check(config)
    assert not health.ok and health.status == "down"
    assert server.base_url in health.message
    with pytest.raises(LLMUnavailable) as raised:
        chat(config.with_(max_retries=0), contract.HELLO)
    assert raised.value.status == "down"


def test_ensure_llm_starts_and_stops_the_embedded_server(
    packaged_model: Path, serving_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LONGTAIL_HOME", str(serving_home))  # reuse the assembled model
    monkeypatch.setenv("LONGTAIL_LLM__THREADS", "1")
    monkeypatch.delenv("LONGTAIL_LLM__URL", raising=False)
    handle = ensure_llm(load_settings())
    try:
        assert handle.embedded and handle.server is not None
        pid = handle.server.pid
        assert health_check(handle.config, generate=False).ok
    finally:
        handle.stop()
    assert pid is not None and not _alive(pid)


def test_child_ends_when_its_parent_dies(packaged_model: Path, tmp_path: Path) -> None:
    """A server whose owner was killed (no stop() call) must not linger."""
    import subprocess
    import sys
    import time

    script = (
        "import sys, time\n"
        "from serving.embedded import EmbeddedServer\n"
        f"s = EmbeddedServer({str(packaged_model)!r}, model_name='m', threads=1,\n"
        f"                   log_path={str(tmp_path / 'child.log')!r})\n"
        "s.start(timeout_s=300)\n"
        "print(s.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])},
    )
    assert owner.stdout is not None
    child = int(owner.stdout.readline())
    owner.send_signal(signal.SIGKILL)
    owner.wait(30)
    for _ in range(100):  # the child polls its parent twice a second
        if not _alive(child):
            break
        time.sleep(0.2)
    alive = _alive(child)
    if alive:
        os.kill(child, signal.SIGKILL)
    assert not alive


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except OSError:
        return False
