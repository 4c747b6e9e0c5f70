"""The shopping agent: one turn = understand → fixed plan over the tools → grounded answer.

Guided mode (the default, for small models): the LLM fills the intent JSON, the rules check
it against the message and the catalog, the plan runs rank_candidates (and similar_items or
product_details where the shopper points at an item), the LLM writes one introducing
sentence, and the list of suggestions with catalog prices and evidence-based explanations is
built from the ranked items. Tool-calling mode lets the model pick the tools itself.

Whatever the LLM does (down, slow, invalid), a turn ends with ranked products and a
grounded answer; the trace says what happened.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, ToolMessage
from pydantic import ValidationError

from agent.explain import explain
from agent.grounding import GroundingChecker, prompt_echoes
from agent.intent import Intent, intent_schema
from agent.llm_steps import (
    LLMGate,
    LLMStepError,
    classify,
    json_step,
    malformed_tool_call,
    text_step,
    to_messages,
)
from agent.message_rules import read_message
from agent.services import Services
from agent.session import Constraints, Plan, Session, plan_turn
from agent.streaming import GroundedStream
from agent.tools import (
    Filters,
    ProductDetailsArgs,
    RankCandidatesArgs,
    SimilarItemsArgs,
    Toolbox,
    ToolError,
    UserHistoryArgs,
)
from agent.trace import CandidateTrace, LLMCall, Suggestion, TurnTrace
from agent.understanding import merge_intent
from agent.vocabulary import Vocabulary
from catalog.models import EVENTS, Product
from longtail.errors import ServiceUnavailable
from ranking.request import RankedItem
from serving.prompts import PromptLibrary

log = logging.getLogger("longtail.agent")
turn_log = logging.getLogger("longtail.agent.turns")

MAX_RANK_DEPTH = 100  # the hybrid ranker's largest k

REDUCED_NOTE = (
    "(Reduced mode: the language model is unavailable, so these suggestions come straight "
    "from the ranking with template explanations.)"
)


TOOLS_RESAMPLE_TEMPERATURE = 0.7


@dataclass(frozen=True)
class AgentConfig:
    """Token budgets are per LLM call; at ~12 tokens/s on 2 CPU cores each token is ~80 ms."""

    mode: Literal["guided", "tools"] = "guided"
    k: int = 3
    tail_knob: float | None = None
    intent_max_tokens: int = 64
    answer_max_tokens: int = 28
    tools_max_steps: int = 3
    prefill_tool_call: bool = False  # llama.cpp: start the reply with <tool_call> (see serving)
    prompt_versions: dict[str, int] = field(default_factory=dict)  # name -> version; else latest
    llm_cooldown_s: float = 30.0
    overfetch: int = 10  # ranked items asked for per suggestion shown, to keep the asked type


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
        self.services = services
        self.llm = llm
        self.config = config or AgentConfig()
        self.prompts = prompts or PromptLibrary()
        products = services.ranker.dataset.products
        self.vocabulary = Vocabulary.from_products(products)
        self.schema = intent_schema(self.vocabulary, max_ref=max(self.config.k, 5))
        self.grounding = GroundingChecker(products)
        self.gate = LLMGate(cooldown_s=self.config.llm_cooldown_s)

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

    # ------------------------------------------------------------------ one turn
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
            reading = read_message(message, self.vocabulary)
            trace.intent_rules = reading.intent.model_dump()
            llm_intent = None
            if self.config.mode == "guided":
                llm_intent = self._llm_intent(session, message, trace)
            intent = merge_intent(llm_intent, reading, message, self.vocabulary)
            trace.intent = intent.model_dump()
            plan = plan_turn(session, intent, reading, self.product)
        trace.plan, trace.constraints = plan.kind, plan.constraints.as_dict()
        items: list[RankedItem] = []
        with trace.timed("tools"):
            if self.config.mode == "tools":
                items = self._tools_run(session, message, trace, toolbox)
            if not items:
                items = self._run_plan(plan, toolbox, trace)
        suggestions = self._suggestions(plan, items, toolbox, trace)
        trace.suggestions = suggestions
        with trace.timed("answer"):
            answer = self._answer(message, plan, suggestions, toolbox, trace, on_token)
        trace.answer = answer
        self._remember(session, plan, suggestions)
        return TurnResult(answer=answer, suggestions=suggestions, trace=trace)

    # ------------------------------------------------------------------ understanding
    def _render(self, name: str, **values: Any) -> tuple[list[dict[str, str]], str]:
        prompt = self.prompts.get(name, self.config.prompt_versions.get(name))
        return prompt.render(**values), prompt.key

    def _context(self, session: Session) -> dict[str, str]:
        """The last list and the request in force, short (every token is prompt time)."""
        shown = "; ".join(
            f"#{n} {_short_name(self.product(i))}" for n, i in enumerate(session.last_shown, 1)
        )
        current = session.constraints.describe() if session.constraints.query else "none"
        return {"shown": shown or "none", "current": current}

    def _reduce(self, trace: TurnTrace, reason: str) -> None:
        trace.reduced_mode = True
        trace.reduced_reason = trace.reduced_reason or reason

    def _llm_intent(self, session: Session, message: str, trace: TurnTrace) -> Intent | None:
        if self.llm is None:
            self._reduce(trace, "down: no LLM configured")
            return None
        messages, key = self._render(
            "intent",
            categories=", ".join(self.vocabulary.categories),
            message=message,
            **self._context(session),
        )
        try:
            value = json_step(
                self.llm,
                self.gate,
                messages,
                self.schema,
                prompt=key,
                max_tokens=self.config.intent_max_tokens,
                calls=trace.llm_calls,
            )
            intent = Intent.model_validate(value)
        except LLMStepError as exc:
            self._reduce(trace, exc.reason)
            return None
        except ValidationError as exc:
            self._reduce(trace, "invalid")
            trace.llm_calls[-1].ok, trace.llm_calls[-1].error = False, str(exc)[:200]
            return None
        trace.intent_llm = intent.model_dump()
        return intent

    # ------------------------------------------------------------------ the fixed plan
    def _filters(self, constraints: Constraints) -> Filters:
        return Filters(
            category=constraints.category,
            brands=list(constraints.brands),
            exclude_brands=list(constraints.exclude_brands),
            min_price=constraints.min_price,
            max_price=constraints.max_price,
        )

    def _run_plan(self, plan: Plan, toolbox: Toolbox, trace: TurnTrace) -> list[RankedItem]:
        """details → product_details; similar → similar_items then rank; else rank."""
        try:
            if toolbox.session.history:
                toolbox.user_history(UserHistoryArgs(limit=20))
            if plan.kind == "details" and plan.anchor:
                toolbox.product_details(ProductDetailsArgs(item_id=plan.anchor))
                return []
            if plan.kind == "similar" and plan.anchor:
                toolbox.similar_items(SimilarItemsArgs(item_id=plan.anchor, k=5))
            if plan.anchor:
                toolbox.product_details(ProductDetailsArgs(item_id=plan.anchor))
            items = self._rank(
                toolbox, plan, plan.constraints.query, self.config.k * self.config.overfetch
            )
            kind = plan.constraints.product_type
            if len(items) < self.config.k and kind and plan.constraints.query != kind:
                # The query's other words pulled in other types ("waterproof hiking" finds
                # boots): ask again with the bare type, as deep as the ranker goes.
                seen = {i.item_id for i in items}
                more = self._rank(toolbox, plan, kind, MAX_RANK_DEPTH)
                items += [i for i in more if i.item_id not in seen]
            return items
        except ToolError as exc:
            log.warning("a tool failed in turn %s: %s", trace.turn, exc)
            if isinstance(exc.__cause__, ServiceUnavailable):
                trace.catalog_error = str(exc)
        except Exception as exc:  # a back-end bug must not end the conversation; logged in full
            log.exception("the plan failed in turn %s", trace.turn)
            trace.catalog_error = f"{type(exc).__name__}: {exc}"[:300]
        return []

    def _rank(self, toolbox: Toolbox, plan: Plan, query: str, k: int) -> list[RankedItem]:
        toolbox.rank_candidates(
            RankCandidatesArgs(
                query=query,
                filters=self._filters(plan.constraints),
                k=k,
                tail_knob=self.config.tail_knob,
                anchor=plan.anchor if plan.kind == "similar" else None,
            )
        )
        items = list(toolbox.last_rank.items) if toolbox.last_rank else []
        return self._prefer_wanted(items, plan.constraints)

    def _prefer_wanted(self, items: list[RankedItem], constraints: Constraints) -> list[RankedItem]:
        """Only items of the product type the shopper named (the ranker sees the type only as
        words in the query, so its list can drift to related types), the asked-for colour
        first; rank order is kept within each group."""
        wanted = constraints.product_type.lower()

        def attribute(item: RankedItem, name: str) -> str:
            return str(self.product(item.item_id).attributes.get(name) or "").lower()

        if wanted:
            items = [i for i in items if attribute(i, "type") == wanted]
        if constraints.attributes:
            items.sort(key=lambda i: attribute(i, "color") not in constraints.attributes)
        return items

    # ------------------------------------------------------------------ tool-calling mode
    def _tools_run(
        self, session: Session, message: str, trace: TurnTrace, toolbox: Toolbox
    ) -> list[RankedItem]:
        """The model calls tools itself; its ranked items, or [] to fall back to the plan."""
        if self.llm is None:
            self._reduce(trace, "down: no LLM configured")
            return []
        tools = {t.name: t for t in toolbox.langchain_tools()}
        messages, key = self._render("tools", message=message, **self._context(session))
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
                self._reduce(trace, exc.reason)
                break
            except Exception as exc:  # the degradation boundary
                reason = classify(exc)
                self.gate.failed(reason)
                call.error = f"{reason}: {str(exc)[:200]}"
                if malformed_tool_call(exc) and not resampled:
                    # A malformed call from a small model: greedy would repeat it, a sample may not.
                    temperature, resampled = TOOLS_RESAMPLE_TEMPERATURE, True
                    continue
                self._reduce(trace, reason)
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

    # ------------------------------------------------------------------ suggestions and answer
    def _suggestions(
        self, plan: Plan, items: list[RankedItem], toolbox: Toolbox, trace: TurnTrace
    ) -> list[Suggestion]:
        if plan.kind == "details" and plan.anchor:
            product = self.product(plan.anchor)
            facts = _facts(product)
            return [_suggestion(product, tail=False, explanation=facts)]
        ranked = list(toolbox.last_rank.items) if toolbox.last_rank else items
        trace.candidates = [
            CandidateTrace(
                item_id=i.item_id,
                title=i.title,
                rank=i.rank,
                score=i.score,
                tail=i.tail,
                popularity=i.popularity,
                sources=list(i.sources),
                contributions=dict(i.contributions),
                price=i.price,
                brand=i.brand,
                category=i.category,
            )
            for i in ranked
        ]
        suggestions = []
        for item in items[: self.config.k]:
            product = self.product(item.item_id)
            text = explain(
                item,
                product,
                plan.constraints,
                title_of=lambda i: self._title_for(i, toolbox),
                anchor=plan.anchor,
            )
            suggestions.append(_suggestion(product, tail=item.tail, explanation=text))
        return suggestions

    def _title_for(self, item_id: str, toolbox: Toolbox) -> str:
        product = self.product(item_id)
        toolbox.seen_items.setdefault(item_id, product)
        return product.title

    def _answer(
        self,
        message: str,
        plan: Plan,
        suggestions: list[Suggestion],
        toolbox: Toolbox,
        trace: TurnTrace,
        on_token: Callable[[str], None] | None,
    ) -> str:
        listing = "\n".join(
            f"{n}. {s.title} ({_price(s.price)}): {s.explanation}"
            for n, s in enumerate(suggestions, 1)
        )
        template = _template_intro(plan, suggestions, trace.catalog_error)
        intro = template
        allowed = list(toolbox.seen_items.values())
        if suggestions and not trace.reduced_mode and self.llm is not None:
            messages, key = self._render(
                "answer",
                message=message,
                items=[
                    {
                        "title": _short_name(self.product(s.item_id), price=False),
                        "explanation": s.explanation,
                    }
                    for s in suggestions
                ],
            )
            instructions = [m["content"] for m in messages if m["role"] == "system"]
            stream = GroundedStream(
                lambda sentence: (
                    self.grounding.check(
                        sentence,
                        allowed,
                        listed=len(suggestions),
                        limits=plan.constraints.limits,
                        refused=plan.constraints.exclude_brands,
                        said=f"{message} {plan.constraints.query}",
                    )
                    + prompt_echoes(sentence, instructions)
                ),
                emit=on_token,
            )
            try:
                text = text_step(
                    self.llm,
                    self.gate,
                    messages,
                    prompt=key,
                    max_tokens=self.config.answer_max_tokens,
                    calls=trace.llm_calls,
                    on_token=stream.feed if on_token is not None else None,
                )
                if on_token is None:
                    stream.feed(text)
                trace.llm_answer = text
            except LLMStepError as exc:
                self._reduce(trace, exc.reason)
            stream.close()
            trace.grounding = stream.removed
            if stream.kept:
                intro = stream.text
                trace.grounding_action = "repaired" if stream.removed else "kept"
            else:
                trace.grounding_action = "replaced"
                if on_token is not None:
                    on_token(intro)
        elif on_token is not None:
            on_token(intro)
        rest = [listing] if listing else []
        if trace.reduced_mode:
            rest.append(REDUCED_NOTE)
        if on_token is not None:
            for part in rest:
                on_token(f"\n{part}")
        return "\n".join([intro, *rest])

    def _remember(self, session: Session, plan: Plan, suggestions: list[Suggestion]) -> None:
        session.constraints = plan.constraints
        session.turns += 1
        ids = [s.item_id for s in suggestions]
        if plan.kind == "details":
            session.focus = plan.anchor
            return
        if ids:
            session.last_shown = ids
            session.shown.extend(i for i in ids if i not in session.shown)
        session.focus = plan.anchor if plan.kind == "similar" else None


def _short_name(product: Product, price: bool = True) -> str:
    """Brand, type and price ("Alpenglow hiking backpack $84.99"): a third of a title's
    tokens, and prompt tokens are most of a turn's time on a CPU."""
    kind = product.attributes.get("type") or product.title.split(",")[0]
    name = f"{product.brand} {kind}" if product.brand and product.brand not in kind else kind
    return f"{name} {_price(product.price)}" if price and product.price is not None else name


def _price(price: float | None) -> str:
    return "price on request" if price is None else f"${price:.2f}"


def _suggestion(product: Product, tail: bool, explanation: str) -> Suggestion:
    return Suggestion(
        item_id=product.item_id,
        title=product.title,
        brand=product.brand,
        category=product.category,
        price=product.price,
        tail=tail,
        explanation=explanation,
    )


def _facts(product: Product) -> str:
    attributes = product.attributes
    extras = []
    for key in ("color", "material"):
        if attributes.get(key):
            extras.append(f"{key}: {attributes[key]}")
    if attributes.get("features"):
        extras.append("features: " + ", ".join(str(f) for f in attributes["features"]))
    tail = f" ({'; '.join(extras)})" if extras else ""
    return (
        f"{product.description}{tail}".strip()
        or f"A {product.category} product by {product.brand}."
    )


def _template_intro(plan: Plan, suggestions: list[Suggestion], catalog_error: str) -> str:
    wanted = plan.constraints.describe()
    if plan.kind == "details" and suggestions:
        return f"Here is what the catalog says about {suggestions[0].title}:"
    if not suggestions and catalog_error:  # not the shopper's words: do not ask for others
        return "I cannot search the catalog right now. Please try again in a moment."
    if not suggestions:
        return (
            f"I found nothing new for {wanted}. Try a wider price range, another brand, "
            "or different words."
        )
    if plan.kind == "similar":
        return f"Here are {len(suggestions)} more like the one you picked ({wanted}):"
    return f"Here are {len(suggestions)} suggestions for {wanted}:"
