"""A small demo catalog (1,200 products, 300 shoppers): behind the fake ranker for unit
tests, and ingested and trained for the integration tests against real LLM servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.agent import ShoppingAgent
from agent.build import open_services
from agent.services import Services
from catalog.dataset import Dataset
from catalog.demo import DemoConfig, generate_demo, write_demo
from catalog.loading import load_dataset
from core.settings import AgentConfig, Settings
from ranking import registry
from ranking.artifacts import artifacts_dir, serving_training_data
from retrieval.encoders import SentenceTransformerEncoder
from retrieval.ingest import ingest
from retrieval.layout import StoreLayout
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


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """1,200 demo products (10 per product type), ingested and trained as the CLI does;
    shared by the integration tests against each LLM server."""
    home = tmp_path_factory.mktemp("agent-home")
    folder = tmp_path_factory.mktemp("agent-demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LONGTAIL_HOME", str(home))
        settings = Settings(home=home)
        write_demo(folder, DemoConfig(items=1200, users=300))
        dataset = load_dataset(folder)
        layout = StoreLayout.for_data(settings, folder)
        ingest(dataset, settings, layout, SentenceTransformerEncoder(), progress=False)
        training = serving_training_data(dataset)
        scorer = registry.get("hybrid").build(settings.seed).fit(training)
        scorer.save(artifacts_dir(home, dataset.name) / "hybrid", fingerprint=training.fingerprint)
        yield open_services(settings, folder)
