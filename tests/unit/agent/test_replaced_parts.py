"""What the server swaps into a live agent (a promoted model's ranker, an experiment arm's
config, the LLM) is what the next turn uses, in every step of the turn."""

from __future__ import annotations

import copy
from dataclasses import replace

from catalog.dataset import Dataset
from tests.support.fakes import OverlapRanker


def test_a_replaced_ranker_ranks_the_next_turn(make_agent, demo_dataset: Dataset) -> None:
    agent = make_agent()
    old = agent.services.ranker
    fresh = OverlapRanker(demo_dataset)
    agent.services = replace(agent.services, ranker=fresh)
    agent.turn(agent.new_session(), "a dog bed")
    assert fresh.requests and not old.requests


def test_a_replaced_config_reaches_the_ranking_request(make_agent) -> None:
    agent = make_agent()
    agent.config = agent.config.model_copy(update={"tail_knob": 0.25})
    agent.turn(agent.new_session(), "a dog bed")
    assert agent.services.ranker.requests[-1].tail_knob == 0.25


def test_setting_the_llm_reaches_every_step(make_agent) -> None:
    agent = make_agent()
    llm = object()
    agent.llm = llm  # type: ignore[assignment]
    steps = (agent.understander, agent.tool_caller, agent.answerer)
    assert all(step.llm is llm for step in steps)


def test_a_replaced_prompt_library_reaches_the_understanding(make_agent) -> None:
    agent = make_agent()
    library = copy.copy(agent.prompts)
    agent.prompts = library
    assert agent.understander.prompts is library
