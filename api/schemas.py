"""Request and response bodies of the REST API.

Hard ceilings live here (a request over them is a 422 before anything runs); the configured,
usually tighter limits (`api.max_message_chars`, `api.max_history`) are checked by the routes.
Text is cleaned of control characters (newlines and tabs stay) and must not be blank.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator, model_validator

import core.filters
from agent.trace import Suggestion
from core.items import ItemSummary
from runtime.inputs import ITEM_ID, EventKind, HistoryEvent, Strict, clean_text

MESSAGE_CEILING = 20_000
HISTORY_CEILING = 10_000
SESSION_ID = Annotated[str, Field(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
USER_ID = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="a pseudonymous shopper id the shop chose (never an e-mail or a name)",
    ),
]
NAME = Annotated[str, Field(min_length=1, max_length=200)]

History = Annotated[list[ITEM_ID | HistoryEvent], Field(max_length=HISTORY_CEILING)]


def history_events(history: list[str | HistoryEvent]) -> list[HistoryEvent]:
    """Item ids alone count as purchases (the generic dataset's default event)."""
    return [HistoryEvent(item_id=h) if isinstance(h, str) else h for h in history]


class ChatRequest(Strict):
    session_id: SESSION_ID | None = Field(
        None, description="the id a previous answer returned; omit it to start a session"
    )
    message: str = Field(..., max_length=MESSAGE_CEILING, description="what the shopper says")
    user_id: USER_ID | None = Field(
        None, description="a known shopper: their logged events join a new session's history"
    )
    history: History = Field(
        default_factory=list,
        description="the shopper's behaviour before this chat (item ids or {item_id, event}, "
        "oldest first); read only when a new session starts",
    )

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = clean_text(value)
        if not value:
            raise ValueError("message is empty")
        return value


class ChatResponse(BaseModel):
    session_id: str
    turn: int
    answer: str
    suggestions: list[Suggestion]
    reduced_mode: bool


class Filters(Strict):
    """The REST edge of `core.filters.Filters`, with the API's ceilings."""

    categories: list[NAME] = Field(default_factory=list, max_length=50)
    brands: list[NAME] = Field(default_factory=list, max_length=50)
    exclude_brands: list[NAME] = Field(default_factory=list, max_length=50)
    min_price: float | None = Field(None, ge=0, le=1e9)
    max_price: float | None = Field(None, ge=0, le=1e9)

    @model_validator(mode="after")
    def _range(self) -> Filters:
        low, high = self.min_price, self.max_price
        if low is not None and high is not None and low > high:
            raise ValueError(f"the price range is inverted: min_price {low:g} > max_price {high:g}")
        return self

    def exact(self) -> core.filters.Filters:
        return core.filters.Filters(**self.model_dump())


class RecommendRequest(Strict):
    history: History = Field(default_factory=list, description="item ids or {item_id, event}")
    user_id: USER_ID | None = Field(
        None, description="a known shopper: their logged events come before `history`"
    )
    session_id: SESSION_ID | None = Field(
        None, description="the experiment unit when no user_id is given"
    )
    message: str = Field("", max_length=MESSAGE_CEILING, description="optional words to match")
    filters: Filters = Field(default_factory=Filters)
    tail_knob: float | None = Field(
        None, ge=0, le=1, description="0 = pure accuracy .. 1 = most tail exposure"
    )
    k: int = Field(10, ge=1, le=50)

    @field_validator("message")
    @classmethod
    def _clean(cls, value: str) -> str:
        return clean_text(value)


class RecommendedItem(ItemSummary):
    rank: int
    score: float
    tail: bool
    explanation: str
    contributions: dict[str, float]


class RecommendResponse(BaseModel):
    items: list[RecommendedItem]
    tail_knob: float
    candidates: int
    timings_ms: dict[str, float]
    experiment: str | None = None  # the running experiment that served this list, if any
    variant: str | None = None


class EventRequest(Strict):
    session_id: SESSION_ID
    item_id: ITEM_ID
    event: EventKind = "view"
    user_id: USER_ID | None = Field(
        None, description="the shopper (default: the session's, if it was started with one)"
    )


class EventResponse(BaseModel):
    id: int
    session_id: str
    item_id: str
    event: str
    user_id: str | None = None


class ProductUpsert(Strict):
    """A product's new fields (all of them: a PUT replaces the product)."""

    title: str = Field(..., min_length=1, max_length=2_000)
    description: str = Field("", max_length=20_000)
    category: str = Field("", max_length=500)
    brand: str = Field("", max_length=500)
    price: float | None = Field(None, ge=0, le=1e9)
    attributes: dict[str, Any] = Field(default_factory=dict, max_length=100)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        value = clean_text(value)
        if not value:
            raise ValueError("title is empty")
        return value


class ProductResponse(ItemSummary):
    description: str
    attributes: dict[str, Any]
    tail: bool
    retired: bool = False
