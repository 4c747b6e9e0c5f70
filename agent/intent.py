"""What the shopper wants this turn: the intent object the LLM fills in guided mode.

The JSON schema caps every string and list (a 0.5B model loops on unbounded ones), offers
the catalog's categories and brands as enums, and requires only `action` and `query`, so the
model may leave out what the message does not say (fewer tokens at ~12 tokens/s).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.vocabulary import Vocabulary

Action = Literal["search", "refine", "more", "similar", "details", "cheaper", "complement", "chat"]
ACTIONS: tuple[str, ...] = (
    "search", "refine", "more", "similar", "details", "cheaper", "complement", "chat"
)  # fmt: skip
MAX_BRAND_ENUM = 300  # more brands than this: a bounded string (the grammar stays small)
MAX_QUERY_CHARS = 60
MAX_LIST_ITEMS = 3
MAX_PRICE = 100_000


class Intent(BaseModel):
    """One turn's request. `ref` is the 1-based number of an item in the last list shown."""

    model_config = ConfigDict(extra="ignore")

    action: Action = "search"
    query: str = Field("", max_length=200)
    category: str = ""
    min_price: float | None = Field(None, ge=0)
    max_price: float | None = Field(None, ge=0)
    brands: list[str] = Field(default_factory=list)
    exclude_brands: list[str] = Field(default_factory=list)
    attributes: list[str] = Field(default_factory=list)
    ref: int | None = Field(None, ge=1)
    products: list[str] = Field(default_factory=list)  # concrete kinds for an indirect need
    soft_category: str = ""  # the LLM's category guess: a preference, never a filter


# The expansion step's reply: concrete product kinds for a need (prompt `expand`).
EXPAND_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "products": {
            "type": "array",
            "items": {"type": "string", "maxLength": 30},
            "minItems": 1,
            "maxItems": MAX_LIST_ITEMS,
        }
    },
    "required": ["products"],
    "additionalProperties": False,
}


def intent_schema(vocabulary: Vocabulary, max_ref: int = 10) -> dict[str, Any]:
    """The JSON schema for the LLM's intent, specialised to this catalog."""
    brand = (
        {"type": "string", "enum": list(vocabulary.brands)}
        if 0 < len(vocabulary.brands) <= MAX_BRAND_ENUM
        else {
            "type": "string",
            "maxLength": 40,
        }
    )
    brand_list = {"type": "array", "items": brand, "maxItems": MAX_LIST_ITEMS}
    price = {"type": "integer", "minimum": 0, "maximum": MAX_PRICE}
    return {
        "type": "object",
        "properties": {
            "action": {"type": "string", "enum": list(ACTIONS)},
            "query": {"type": "string", "maxLength": MAX_QUERY_CHARS},
            "category": {"type": "string", "enum": ["", *vocabulary.prompt_categories]},
            "min_price": price,
            "max_price": price,
            "brands": brand_list,
            "exclude_brands": brand_list,
            "attributes": {
                "type": "array",
                "items": {"type": "string", "maxLength": 24},
                "maxItems": MAX_LIST_ITEMS,
            },
            "ref": {"type": "integer", "minimum": 1, "maximum": max_ref},
            "products": {
                "type": "array",
                "items": {"type": "string", "maxLength": 40},
                "maxItems": MAX_LIST_ITEMS,
            },
        },
        "required": ["action", "query"],
        "additionalProperties": False,
    }
