"""Tool-calling mode: the model picks the tools itself (capable models behind vLLM's tool
parser; on llama.cpp the first step is prefilled with `<tool_call>`). Its `rank_candidates`
result becomes the suggestions; a turn where it ranked nothing falls back to the guided plan.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, ToolMessage

from agent.llm_steps import LLMGate, LLMStepError, classify, malformed_tool_call, to_messages
from agent.session import Session
from agent.tools import Toolbox
from agent.trace import LLMCall, TurnTrace
from agent.understand import Understander, reduce
from ranking.request import RankedItem

log = logging.getLogger("longtail.agent")

TOOLS_RESAMPLE_TEMPERATURE = 0.7


class ToolCaller:
    def __init__(
        self, understander: Understander, llm: BaseChatModel | None, gate: LLMGate, config: Any
    ) -> None:
        self.understander = understander
        self.llm = llm
        self.gate = gate
        self.config = config

    def run(
        self, session: Session, message: str, trace: TurnTrace, toolbox: Toolbox
    ) -> list[RankedItem]:
        """The model calls tools itself; its ranked items, or [] to fall back to the plan."""
        if self.llm is None:
            reduce(trace, "down: no LLM configured")
            return []
        tools = {t.name: t for t in toolbox.langchain_tools()}
        context = self.understander.context(session)
        messages, key = self.understander.render("tools", message=message, **context)
        history = to_messages(messages)
        model = self.llm.bind_tools(list(tools.values()))
        temperature, resampled = 0.0, False  # tool calls decode greedily, like the intent step
        for _ in range(self.config.tools_max_steps):
            started = time.perf_counter()
            call = LLMCall(purpose="tools", prompt=key, ms=0.0, ok=False)
            trace.llm_calls.append(call)
            # Before any tool has answered, llama.cpp is steered into a call with a prefill.
            prefill = self.config.prefill_tool_call and not trace.tool_calls
            try:
                self.gate.check()
                request = [*history, AIMessage(content="<tool_call>\n")] if prefill else history
                reply = model.invoke(
                    request, max_tokens=self.config.intent_max_tokens * 2, temperature=temperature
                )
            except LLMStepError as exc:
                call.error = str(exc)
                reduce(trace, exc.reason)
                break
            except Exception as exc:  # the degradation boundary
                reason = classify(exc)
                self.gate.failed(reason)
                call.error = f"{reason}: {str(exc)[:200]}"
                if malformed_tool_call(exc) and not resampled:
                    # A malformed call from a small model: greedy would repeat it, a sample may not.
                    temperature, resampled = TOOLS_RESAMPLE_TEMPERATURE, True
                    continue
                reduce(trace, reason)
                break
            finally:
                call.ms = round((time.perf_counter() - started) * 1000, 2)
            call.ok, temperature = True, 0.0
            usage = reply.usage_metadata or {}
            call.prompt_tokens = int(usage.get("input_tokens", 0))
            call.completion_tokens = int(usage.get("output_tokens", 0))
            call.raw = str(reply.content)[:400] or json.dumps(reply.tool_calls)[:400]
            if not reply.tool_calls:
                break
            history.append(reply)
            for tool_call in reply.tool_calls:
                tool = tools.get(tool_call["name"])
                try:
                    output = (
                        tool.invoke(tool_call["args"])
                        if tool is not None
                        else {"error": f"no tool named {tool_call['name']!r}"}
                    )
                except Exception as exc:  # the model's call must not end the turn
                    log.exception("tool %s failed in turn %s", tool_call["name"], trace.turn)
                    output = {"error": f"{type(exc).__name__}: {exc}"[:300]}
                if isinstance(output, str):  # a validation message from the tool wrapper
                    output = json.loads(output)
                history.append(
                    ToolMessage(content=json.dumps(output)[:2000], tool_call_id=tool_call["id"])
                )
            if toolbox.last_rank is not None:
                break
        if toolbox.last_rank is None:
            log.info("tool-calling turn %s made no ranking; running the guided plan", trace.turn)
            return []
        return list(toolbox.last_rank.items)
