"""Assemble the production agent: the hybrid ranker, the semantic visor and CF lookups over
one ingested and trained dataset, and a LangChain chat model on the configured LLM server."""

from __future__ import annotations

import logging
from pathlib import Path

from langchain_core.language_models import BaseChatModel

from agent.agent import ShoppingAgent
from agent.services import Services
from agent.vocabulary import Vocabulary
from core.settings import AgentConfig, Settings
from retrieval.layout import StoreLayout
from serving.client import LLMConfig, chat_model, server_flavor
from serving.prompts import PromptLibrary

log = logging.getLogger("longtail.agent")


def open_services(settings: Settings, data_dir: Path, rank_workers: int = 0) -> Services:
    """The hybrid ranker (needs `longtail ingest` and `longtail train --models hybrid`), its
    retriever for search_products, and the trained CF model for similar_items if present.
    With `rank_workers`, requests are ranked in that many worker processes (RankerPool),
    each answering within `api.rank_timeout_s`."""
    from ranking.artifacts import load_trained
    from ranking.hybrid_ranker import HybridRanker
    from ranking.ranker_pool import RankerPool
    from ranking.scorer import ScorerError

    ranker = HybridRanker.open(settings, data_dir)
    cf = ranker.scorer.components.get("cf")
    if cf is None:
        try:
            cf = load_trained(settings.home, ranker.dataset, "cf")
        except ScorerError:
            cf = None
    ranks = (
        RankerPool(ranker, settings, data_dir, rank_workers, settings.api.rank_timeout_s)
        if rank_workers
        else ranker
    )
    vocabulary = Vocabulary.load(
        StoreLayout.for_data(settings, data_dir).folder, ranker.dataset.fingerprint()
    )
    if vocabulary is None:
        log.warning("no stored vocabulary for %s: deriving it (run `longtail ingest`)", data_dir)
    return Services(
        ranker=ranks,  # type: ignore[arg-type]
        search=ranker.retriever,
        cf=cf,
        vocabulary=vocabulary,
    )


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
    """The agent over `services`; with no LLM config it runs in reduced mode throughout.
    A configured prompt version that does not exist fails here, before the first turn."""
    config = config or AgentConfig()
    prompts = PromptLibrary()
    for name, version in config.prompt_versions.items():
        prompts.get(name, version)
    llm = None
    if llm_config is not None:
        llm = agent_chat_model(llm_config, timeout_s)
        if config.mode == "tools" and server_flavor(llm_config) == "llama.cpp":
            config = config.model_copy(update={"prefill_tool_call": True})
    return ShoppingAgent(services, llm, config, prompts)
