"""vLLM-CPU, for real: serving/vllm/cpu.sh on the same packaged model (converted once)."""

from __future__ import annotations

import pytest

from serving.client import LLMConfig
from tests.integration.serving import contract

pytestmark = pytest.mark.vllm


def test_chat_and_streaming(vllm_llm: LLMConfig) -> None:
    contract.check_chat(vllm_llm)
    contract.check_streaming(vllm_llm)


def test_json_schema_output(vllm_llm: LLMConfig) -> None:
    contract.check_json_schema(vllm_llm)


def test_forced_tool_call(vllm_llm: LLMConfig) -> None:
    contract.check_tool_call(vllm_llm)


def test_health_check(vllm_llm: LLMConfig) -> None:
    contract.check_health(vllm_llm)


def test_llm_check_command(vllm_llm: LLMConfig) -> None:
    report = contract.check_cli(vllm_llm)
    assert report["server"] == "vllm"
