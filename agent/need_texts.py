"""Indirect needs and their LLM expansions, for learning the ranker's LLM-candidate weight.

`longtail train --llm-requests N` needs validation requests that carry LLM texts the way
serving produces them: a shopper describes a need, the agent's expansion step (prompt
`expand`, `Understander.expand`) turns it into product kinds, and those go to the ranker
as `llm_texts`. For each validation target's kind (the catalog's own words) the LLM first
writes such a need without naming the kind (prompt `need`); a need the rules read a
catalog kind in, or one whose words the catalog never uses, is not one serving would
expand, and neither is a need the expansion gives no catalog kind for: those kinds are
passed over and counted. A server that is down or too slow raises LLMStepError (nothing
is cached for it). Every LLM answer is cached per kind and per need in a JSON file,
so a rerun (or a run cut short) asks the LLM only for what it lacks.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from agent.llm_steps import LLMGate, LLMStepError, json_step
from agent.message_rules import read_message
from agent.trace import TurnTrace
from agent.understand import Understander, mend
from agent.vocabulary import Vocabulary
from core.settings import AgentConfig
from ranking.llm_weights import LLMText
from serving.prompts import PromptLibrary

SERVER_FAILURES = ("down", "slow")  # not the model's answer: raised, never cached
NEED_MAX_CHARS = 120
NEED_MAX_TOKENS = 48
NEED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"need": {"type": "string", "minLength": 8, "maxLength": NEED_MAX_CHARS}},
    "required": ["need"],
    "additionalProperties": False,
}


class NeedWriter:
    """kind -> LLMText (or None, with the reason counted in `passed_over`)."""

    def __init__(
        self,
        llm: BaseChatModel,
        vocabulary: Vocabulary,
        cache_file: Path,
        prompts: PromptLibrary | None = None,
        config: AgentConfig | None = None,
    ) -> None:
        self.llm = llm
        self.vocabulary = vocabulary
        self.prompts = prompts or PromptLibrary()
        self.config = config or AgentConfig()
        self.gate = LLMGate(cooldown_s=0.0)
        self.understander = Understander(
            vocabulary, llm, self.prompts, self.gate, self.config, product=lambda _: None
        )
        self.cache_file = cache_file
        self.cache: dict[str, Any] = (
            json.loads(cache_file.read_text()) if cache_file.is_file() else {}
        )
        self.passed_over: Counter[str] = Counter()
        self.llm_calls = 0

    def __call__(
        self, kinds: list[str], progress: Callable[[Iterable[str]], Iterable[str]] = iter
    ) -> dict[str, LLMText | None]:
        return {kind: self.text_for(kind) for kind in progress(kinds)}

    def text_for(self, kind: str) -> LLMText | None:
        need = self._cached(f"need:{kind}", lambda: self._need(kind))
        if not need:
            return self._pass("no need written")
        mended, _ = mend(need, self.vocabulary)
        reading = read_message(mended, self.vocabulary)
        if reading.product_type:  # serving filters by that kind and does not expand
            return self._pass("the need names a catalog kind")
        words = self.vocabulary.content_words(mended)
        if not any(self.vocabulary.known(w) for w in words):  # served as "we don't carry"
            return self._pass("no catalog word in the need")
        texts = self._cached(f"expand:{mended}", lambda: self._expand(mended))
        if not texts:
            return self._pass("no catalog kind in the expansion")
        query = reading.intent.query
        message = "; ".join([query, *texts]) if query else "; ".join(texts)
        return LLMText(need=need, message=message[:200], texts=tuple(texts))

    def _pass(self, reason: str) -> None:
        self.passed_over[reason] += 1
        return None

    def _cached(self, key: str, ask: Callable[[], Any]) -> Any:
        if key not in self.cache:
            self.cache[key] = ask()
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            self.cache_file.write_text(json.dumps(self.cache, indent=1, sort_keys=True))
        return self.cache[key]

    def _need(self, kind: str) -> str:
        prompt = self.prompts.get("need", self.config.prompt_versions.get("need"))
        self.llm_calls += 1
        try:
            value = json_step(
                self.llm,
                self.gate,
                prompt.render(kind=kind),
                NEED_SCHEMA,
                prompt=prompt.key,
                max_tokens=NEED_MAX_TOKENS,
                calls=[],
                purpose="need",
            )
        except LLMStepError as exc:
            if exc.reason in SERVER_FAILURES:
                raise
            return ""  # the model's answer did not fit the schema: cached as no need
        return " ".join(str(value["need"]).split())

    def _expand(self, need: str) -> list[str]:
        self.llm_calls += 1
        trace = TurnTrace(session_id="train", turn=0, mode="guided", message=need)
        try:
            return self.understander.expansion(need, trace)
        except LLMStepError as exc:
            if exc.reason in SERVER_FAILURES:
                raise
            return []
