"""A small demo catalog (1,200 products, 300 shoppers) behind the fake ranker."""

from __future__ import annotations

import pytest

from agent.agent import AgentConfig, ShoppingAgent
from agent.services import Services
from catalog.dataset import Dataset
from catalog.demo import DemoConfig, generate_demo
from tests.agent.fakes import OverlapRanker, ScriptedChat


@pytest.fixture(scope="session")
def demo_dataset() -> Dataset:
    return generate_demo(DemoConfig(seed=3, items=1200, users=300))


@pytest.fixture
def ranker(demo_dataset: Dataset) -> OverlapRanker:
    return OverlapRanker(demo_dataset)


@pytest.fixture
def make_agent(ranker: OverlapRanker):
    def make(script: list | None = None, **config) -> ShoppingAgent:
        llm = ScriptedChat(script=list(script), calls=[]) if script is not None else None
        return ShoppingAgent(Services(ranker=ranker), llm, AgentConfig(**config))

    return make
