"""The store behind the agent's suites against real LLM servers: 1,200 demo products,
ingested and trained as the CLI does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.build import open_services
from agent.services import Services
from catalog.demo import DemoConfig, write_demo
from catalog.loading import load_dataset
from core.settings import Settings
from ranking import registry
from ranking.artifacts import artifacts_dir, serving_training_data
from retrieval.encoders import SentenceTransformerEncoder
from retrieval.ingest import ingest
from retrieval.layout import StoreLayout


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
