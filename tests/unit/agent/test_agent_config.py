"""`agent.*` settings choose how `longtail serve` and `eval-chat` run the agent: read from the
environment like every key, checked when read, and a prompt version that does not exist is
refused when the agent is built, not at a shopper's first turn."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from agent.build import build_agent
from agent.services import Services
from core.settings import load_settings
from serving.prompts import PromptError
from tests.support.fakes import OverlapRanker


def test_agent_keys_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LONGTAIL_AGENT__MODE", "tools")
    monkeypatch.setenv("LONGTAIL_AGENT__PROMPT_VERSIONS", '{"intent": 2}')
    agent = load_settings().agent
    assert (agent.mode, agent.prompt_versions, agent.k) == ("tools", {"intent": 2}, 3)


def test_a_bad_agent_key_names_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LONGTAIL_AGENT__MODE", "chatty")
    with pytest.raises(ValidationError, match=r"agent\.mode"):
        load_settings()
    monkeypatch.delenv("LONGTAIL_AGENT__MODE")
    with pytest.raises(ValidationError, match=r"agent\.wings"):
        load_settings(agent={"wings": 2})


def test_the_built_agent_keeps_the_configured_choices(ranker: OverlapRanker) -> None:
    config = load_settings(agent={"mode": "tools", "prompt_versions": {"intent": 2}}).agent
    agent = build_agent(Services(ranker=ranker), None, config)
    assert agent.config.mode == "tools"
    assert agent.config.prompt_versions == {"intent": 2}


def test_a_missing_prompt_version_fails_at_build(ranker: OverlapRanker) -> None:
    config = load_settings(agent={"prompt_versions": {"intent": 99}}).agent
    with pytest.raises(PromptError, match="no prompt 'intent' version 99"):
        build_agent(Services(ranker=ranker), None, config)
