"""A real API server process for the durability and disk-full tests: the fake ranker, no
LLM, events in the SQLite file named on the command line, optional [api] settings as JSON.
Run: python -m tests.unit.api.event_server PORT DB ['{"events_burst": 10}']"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import uvicorn

from agent.agent import ShoppingAgent
from agent.services import Services
from app.web import create_app
from catalog.demo import DemoConfig, generate_demo
from core.settings import Settings
from events.log import EventLog
from runtime.container import Runtime
from tests.support.fakes import OverlapRanker


def main(port: int, db: Path, api: dict) -> None:
    dataset = generate_demo(DemoConfig(seed=3, items=300, users=60))
    agent = ShoppingAgent(Services(ranker=OverlapRanker(dataset)), None)
    burst = {"events_burst": 100_000, "sessions_burst": 1000}  # the tests are bursts by design
    rt = Runtime(Settings(home=db.parent, api=burst | api), agent, EventLog(db))
    uvicorn.run(create_app(rt, screens=False), host="127.0.0.1", port=port, log_level="error")


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3]) if len(sys.argv) > 3 else {})
