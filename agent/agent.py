"""The shopping agent: one turn = understand → retrieve/rank → answer.

- `agent/understand.py`: mend typos, read the message against the catalog's vocabulary,
  the LLM's intent (guided mode), merged into the turn's plan and constraints;
- `agent/retrieve.py`: run the plan over the tools (rank_candidates with the request's
  words, similar_items, bought_together, product_details), keep the kind asked for;
- `agent/answer.py`: suggestions with evidence-based explanations, one grounded LLM
  sentence, honest "we don't carry that".
Tool-calling mode (`agent/tool_calling.py`) lets the model pick the tools itself.

Whatever the LLM does (down, slow, invalid), a turn ends with ranked products and a
grounded answer; the trace says what happened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel

from agent.answer import REDUCED_NOTE, Answerer, remember
from agent.explain import shared_words
from agent.grounding import GroundingChecker
from agent.llm_steps import LLMGate
from agent.retrieve import Retrieved, Retriever
from agent.services import Services
from agent.session import Session
from agent.tool_calling import ToolCaller
from agent.tools import Toolbox
from agent.trace import Suggestion, TurnTrace
from agent.understand import Understander, Understanding
from agent.vocabulary import Vocabulary
from catalog.models import EVENTS, Product
from core.settings import AgentConfig
from serving.prompts import PromptLibrary

turn_log = logging.getLogger("longtail.agent.turns")

__all__ = ["REDUCED_NOTE", "ShoppingAgent", "TurnResult"]


@dataclass
class TurnResult:
    answer: str
    suggestions: list[Suggestion]
    trace: TurnTrace

    @property
    def reduced_mode(self) -> bool:
        return self.trace.reduced_mode


class ShoppingAgent:
    def __init__(
        self,
        services: Services,
        llm: BaseChatModel | None,
        config: AgentConfig | None = None,
        prompts: PromptLibrary | None = None,
    ) -> None:
        self._services = services
        self._llm = llm
        self._config = config or AgentConfig()
        self._prompts = prompts or PromptLibrary()
        products = services.ranker.dataset.products
        self.vocabulary = services.vocabulary or Vocabulary.from_products(products)
        self.grounding = GroundingChecker(products, kinds=self.vocabulary.kinds)
        self.gate = LLMGate(cooldown_s=self._config.llm_cooldown_s)
        self._build_steps()

    def _build_steps(self) -> None:
        """The turn's steps hold the services, LLM, prompts and config they use; they are built
        anew when one is replaced (a promoted model, retired products, an experiment arm, a
        draft prompt in the studio)."""
        llm, config = self._llm, self._config
        self.understander = Understander(
            self.vocabulary, llm, self._prompts, self.gate, config, self.product
        )
        self.schema = self.understander.schema
        self.retriever = Retriever(self._services, self.vocabulary, config)
        self.tool_caller = ToolCaller(self.understander, llm, self.gate, config)
        self.answerer = Answerer(
            self.understander, self.grounding, llm, self.gate, config, self.product
        )

    @property
    def services(self) -> Services:
        return self._services

    @services.setter
    def services(self, services: Services) -> None:
        self._services = services
        self._build_steps()

    @property
    def llm(self) -> BaseChatModel | None:
        return self._llm

    @llm.setter
    def llm(self, llm: BaseChatModel | None) -> None:
        self._llm = llm
        self._build_steps()

    @property
    def prompts(self) -> PromptLibrary:
        return self._prompts

    @prompts.setter
    def prompts(self, prompts: PromptLibrary) -> None:
        self._prompts = prompts
        self._build_steps()

    @property
    def config(self) -> AgentConfig:
        return self._config

    @config.setter
    def config(self, config: AgentConfig) -> None:
        self._config = config
        self._build_steps()

    @property
    def dataset(self) -> Any:
        return self.services.ranker.dataset

    def product(self, item_id: str) -> Product:
        return self.services.ranker.product(item_id)

    def new_session(self, user_id: str | None = None, history: list[str] | None = None) -> Session:
        """A session for a known shopper (their logged history) and/or a given history."""
        session = Session(user_id=user_id)
        if user_id is not None and user_id in set(self.dataset.user_ids):
            user = self.dataset.user_ids.index(user_id)
            order = self.dataset.order
            mine = order[self.dataset.users[order] == user]
            session.history = [self.dataset.products[i].item_id for i in self.dataset.items[mine]]
            session.events = [EVENTS[e] for e in self.dataset.events[mine]]
        for item_id in history or []:
            session.view(item_id, "purchase")
        return session

    def turn(
        self, session: Session, message: str, on_token: Callable[[str], None] | None = None
    ) -> TurnResult:
        trace = TurnTrace(
            session_id=session.session_id,
            turn=session.turns + 1,
            mode=self.config.mode,
            message=message,
        )
        with trace.timed("total"):
            result = self._turn(session, message, trace, on_token)
        turn_log.info(trace.model_dump_json())
        return result

    def _turn(
        self,
        session: Session,
        message: str,
        trace: TurnTrace,
        on_token: Callable[[str], None] | None,
    ) -> TurnResult:
        toolbox = Toolbox(self.services, session, trace)
        with trace.timed("understand"):
            understanding = self.understander.understand(session, message, trace)
        plan = understanding.plan
        trace.plan, trace.constraints = plan.kind, plan.constraints.as_dict()
        retrieved = Retrieved()
        with trace.timed("tools"):
            if self.config.mode == "tools":
                retrieved = Retrieved(self.tool_caller.run(session, message, trace, toolbox))
                if retrieved.items:  # the model chose what to rank: the words do not decide
                    understanding.out_of_catalog = False
            if not retrieved.items and not understanding.out_of_catalog:
                retrieved = self.retriever.run(plan, toolbox, trace)
        if self._nothing_like(understanding, retrieved):
            understanding.out_of_catalog = True
        if understanding.out_of_catalog:
            retrieved = Retrieved()  # never random items explained as matches
        trace.out_of_catalog = understanding.out_of_catalog
        suggestions = self.answerer.suggestions(understanding, retrieved, toolbox, trace)
        trace.suggestions = suggestions
        with trace.timed("answer"):
            answer = self.answerer.answer(
                understanding, suggestions, toolbox, trace, on_token, message
            )
        trace.answer = answer
        remember(session, plan, suggestions)
        return TurnResult(answer=answer, suggestions=suggestions, trace=trace)

    def _nothing_like(self, understanding: Understanding, retrieved: Retrieved) -> bool:
        """A new request that names no kind of the catalog, whose best items share none of
        its words and none of which is close to it (the calibrated threshold): the catalog
        does not carry it ("running shoes" in an office shop)."""
        plan = understanding.plan
        threshold = self.vocabulary.similarity_threshold
        if plan.kind != "rank" or plan.constraints.product_type or plan.constraints.kinds:
            return False
        if threshold is None or not retrieved.items or not understanding.new_request:
            return False
        top = retrieved.items[: self.config.k]
        request = " ".join(self.vocabulary.head_words(understanding.message))
        if any(shared_words(request, self.product(i.item_id), self.vocabulary) for i in top):
            return False
        similarities = [i.message_similarity for i in top if i.message_similarity is not None]
        return bool(similarities) and max(similarities) < threshold
