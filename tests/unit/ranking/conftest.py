"""The served hybrid ranker, built once per session and shared by the hybrid tests and the
Ranker contract: a small demo store ingested into embedded Chroma and trained as
`longtail train` does, and a pool of two ranking worker processes over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.demo import DemoConfig, write_demo
from catalog.loading import load_dataset
from core.settings import Settings
from ranking import registry
from ranking.artifacts import artifacts_dir, serving_training_data
from ranking.hybrid_ranker import HybridRanker
from ranking.ranker_pool import RankerPool
from retrieval.encoders import SentenceTransformerEncoder
from retrieval.ingest import ingest
from retrieval.layout import StoreLayout

# The intent encoder without its hyper-parameter search and with at most 10 epochs: these
# tests check the served structure, not accuracy (the search: tests/unit/ranking/
# test_intent.py, tests/unit/evaluation/test_tuning_leakage.py). 93 s -> 53 s here, loaded.
QUICK = {"intent": {"search_budget_s": 0.0, "max_epochs": 10}}


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Path]]:
    """(settings, dataset folder) of a 300-product demo store, ingested and trained (QUICK)."""
    home = tmp_path_factory.mktemp("hybrid-home")
    folder = tmp_path_factory.mktemp("hybrid-demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LONGTAIL_HOME", str(home))
        settings = Settings(home=home)
        write_demo(folder, DemoConfig(items=300, users=200))
        dataset = load_dataset(folder)  # named after its folder, as the ranker loads it
        ingest(
            dataset,
            settings,
            StoreLayout.for_data(settings, folder),
            SentenceTransformerEncoder(),
            progress=False,
        )
        training = serving_training_data(dataset)
        scorer = registry.get("hybrid").build(settings.seed, components=QUICK).fit(training)
        scorer.save(artifacts_dir(home, dataset.name) / "hybrid", fingerprint=training.fingerprint)
        yield settings, folder


@pytest.fixture(scope="session")
def hybrid_ranker(served: tuple[Settings, Path]) -> HybridRanker:
    return HybridRanker.open(*served)


@pytest.fixture(scope="session")
def ranker_pool(served: tuple[Settings, Path], hybrid_ranker: HybridRanker) -> Iterator[RankerPool]:
    pool = RankerPool(hybrid_ranker, *served, workers=2)
    yield pool
    pool.close()
