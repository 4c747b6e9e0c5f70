"""Assemble the production agent: the hybrid ranker, the semantic visor and CF lookups over
one ingested and trained dataset, and a LangChain chat model on the configured LLM server."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from langchain_core.language_models import BaseChatModel

from agent.agent import AgentConfig, ShoppingAgent
from agent.services import Services
from longtail.settings import Settings
from serving.client import LLMConfig, chat_model, server_flavor


def open_services(settings: Settings, data_dir: Path) -> Services:
    """The hybrid ranker (needs `longtail ingest` and `longtail train --models hybrid`), its
    retriever for search_products, and the trained CF model for similar_items if present."""
    from ranking.artifacts import load_trained
    from ranking.hybrid_ranker import HybridRanker
    from ranking.scorer import ScorerError

    ranker = HybridRanker.open(settings, data_dir)
    cf = ranker.scorer.components.get("cf")
    if cf is None:
        try:
            cf = load_trained(settings.home, ranker.dataset, "cf")
        except ScorerError:
            cf = None
    return Services(ranker=ranker, search=ranker.retriever, cf=cf)  # type: ignore[arg-type]


def agent_chat_model(config: LLMConfig, timeout_s: float) -> BaseChatModel:
    """ChatOpenAI for one agent turn: a per-call timeout and no retries, so a sick server
    turns into reduced mode quickly instead of stalling the shopper."""
    return chat_model(config.with_(timeout_s=min(config.timeout_s, timeout_s), max_retries=0))


def build_agent(
    services: Services,
    llm_config: LLMConfig | None,
    config: AgentConfig | None = None,
    timeout_s: float = 30.0,
) -> ShoppingAgent:
    """The agent over `services`; with no LLM config it runs in reduced mode throughout."""
    config = config or AgentConfig()
    llm = None
    if llm_config is not None:
        llm = agent_chat_model(llm_config, timeout_s)
        if config.mode == "tools" and server_flavor(llm_config) == "llama.cpp":
            config = replace(config, prefill_tool_call=True)
    return ShoppingAgent(services, llm, config)
