"""The agent behind the fake ranker over the shared small demo catalog (`demo_dataset`, 1,200
products, 300 shoppers), with a scripted chat model when a test gives a script."""

from __future__ import annotations

import pytest

from agent.agent import ShoppingAgent
from agent.services import Services
from catalog.dataset import Dataset
from core.settings import AgentConfig
from tests.support.fakes import OverlapRanker, ScriptedChat


@pytest.fixture
def ranker(demo_dataset: Dataset) -> OverlapRanker:
    return OverlapRanker(demo_dataset)


@pytest.fixture
def make_agent(ranker: OverlapRanker):
    def make(script: list | None = None, **config) -> ShoppingAgent:
        llm = ScriptedChat(script=list(script), calls=[]) if script is not None else None
        return ShoppingAgent(Services(ranker=ranker), llm, AgentConfig(**config))

    return make
