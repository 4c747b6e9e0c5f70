"""A runtime over a small demo catalog: the fake ranker and, unless a test scripts one, no
LLM (reduced mode, a real path); events in a temporary SQLite file. Shared by the unit API,
screen and reliability tests and the integration suites that add a real LLM or browser."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agent.agent import ShoppingAgent
from agent.services import Services
from app.web import create_app
from catalog.dataset import Dataset
from catalog.demo import DemoConfig, generate_demo
from core.settings import AgentConfig, Settings
from events.log import EventLog
from runtime.auth import StaffAuth
from runtime.container import Runtime
from tests.support.fakes import OverlapRanker, ScriptedChat

STAFF = StaffAuth(user="staff", password="s3cret-pass", token="t0ken-for-tests")


@pytest.fixture(scope="session")
def demo_dataset() -> Dataset:
    return generate_demo(DemoConfig(seed=3, items=1200, users=300))


@pytest.fixture
def make_runtime(demo_dataset: Dataset, tmp_path: Path) -> Iterator[Callable[..., Runtime]]:
    made: list[Runtime] = []

    def make(script: list[Any] | None = None, **api: Any) -> Runtime:
        settings = Settings(home=tmp_path, api=api)
        llm = ScriptedChat(script=list(script), calls=[]) if script is not None else None
        agent = ShoppingAgent(Services(ranker=OverlapRanker(demo_dataset)), llm, AgentConfig())
        rt = Runtime(settings, agent, EventLog(tmp_path / f"events{len(made)}.sqlite3"))
        rt.staff = STAFF
        made.append(rt)
        return rt

    yield make
    for rt in made:
        rt.events.close()


@pytest.fixture
def runtime(make_runtime: Callable[..., Runtime]) -> Runtime:
    return make_runtime()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime, screens=False)) as test_client:
        yield test_client


@pytest.fixture
def item_ids(demo_dataset: Dataset) -> list[str]:
    return demo_dataset.item_ids
