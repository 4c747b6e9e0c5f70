"""A live server on loopback (uvicorn in a thread) with the screens mounted: the fake ranker,
no LLM unless a test scripts one, prompts in a scratch copy of prompts/. Shared by the unit
screen and reliability tests and the browser suite."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from agent.agent import ShoppingAgent
from agent.services import Services
from app.web import create_app
from catalog.dataset import Dataset
from core.settings import AgentConfig, Settings
from events.log import EventLog
from runtime.container import Runtime
from serving.prompts import PROMPTS_DIR, PromptLibrary
from tests.support.fakes import OverlapRanker
from tests.support.runtime import STAFF


@dataclass
class LiveServer:
    url: str
    runtime: Runtime
    prompts: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live_server(
    demo_dataset: Dataset,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("ui-home")
    prompts = home / "prompts"
    shutil.copytree(PROMPTS_DIR, prompts)
    agent = ShoppingAgent(
        Services(ranker=OverlapRanker(demo_dataset)), None, AgentConfig(), PromptLibrary(prompts)
    )
    rt = Runtime(Settings(home=home, api={"chat_burst": 1000}), agent, EventLog(home / "e.db"))
    rt.staff = STAFF
    try:
        with serving(rt) as url:
            yield LiveServer(url, rt, prompts)
    finally:
        rt.events.close()


@contextmanager
def serving(rt: Runtime) -> Iterator[str]:
    """`rt`'s app with the screens on a free loopback port (uvicorn in a thread); its URL."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(rt), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.1)
    httpx.get(f"{url}/healthz").raise_for_status()
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def staff_client(url: str, screen: str, **options: Any) -> Iterator[httpx.Client]:
    """A client that opened the staff page first, as a browser does: it holds the CSRF
    cookie and echoes it in the X-CSRF-Token header, as the page's fetch calls do."""
    with httpx.Client(base_url=url, **options) as client:
        client.get(f"/{screen}/").raise_for_status()
        client.headers["x-csrf-token"] = client.cookies["lt-csrf"]
        yield client
