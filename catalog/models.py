"""The domain model: products, interactions and a shopper's behaviour history."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Event = Literal["view", "cart", "purchase", "rating"]
EVENTS: tuple[str, ...] = ("view", "cart", "purchase", "rating")

MAX_ID_LENGTH = 128
MAX_TEXT_LENGTH = 20_000


class Product(BaseModel):
    """One catalog item. Only `item_id` and `title` are required."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    title: str = Field(min_length=1, max_length=MAX_TEXT_LENGTH)
    description: str = Field(default="", max_length=MAX_TEXT_LENGTH)
    category: str = Field(default="", max_length=500)
    brand: str = Field(default="", max_length=500)
    price: float | None = Field(default=None, ge=0)
    attributes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("item_id", "title")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class Interaction(BaseModel):
    """One shopper action on one item at one time (unix seconds)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    item_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    timestamp: float
    event: Event = "purchase"


class UserHistory(BaseModel):
    """A shopper's interactions, oldest first; the input of every scorer and the agent."""

    model_config = ConfigDict(extra="forbid")

    user_id: str | None = None
    interactions: list[Interaction] = Field(default_factory=list)

    @property
    def item_ids(self) -> list[str]:
        return [i.item_id for i in self.interactions]

    @property
    def events(self) -> list[str]:
        return [i.event for i in self.interactions]
