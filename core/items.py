"""The item summary: the five catalog facts that every list of products shows.

A search hit, a ranked item, a stored record, a suggestion and the API's items all carry
these same fields. The internal types hold one `ItemSummary` beside their own scores; the
JSON types (API responses, the trace) extend it, so their keys stay flat.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Self

from pydantic import BaseModel, ConfigDict


class ItemSummary(BaseModel):
    """Which product, and what a list shows of it. Only `item_id` and `title` are required,
    as for a catalog product."""

    # A response always writes every field, so its published schema lists them as required.
    model_config = ConfigDict(frozen=True, json_schema_serialization_defaults_required=True)

    item_id: str
    title: str
    category: str = ""
    brand: str = ""
    price: float | None = None

    @classmethod
    def of(cls, source: object, **extra: Any) -> Self:
        """The summary of anything with these attributes (a catalog `Product`, another
        summary); `extra` gives the fields a subclass adds."""
        facts = {name: getattr(source, name) for name in ItemSummary.model_fields}
        return cls(**facts, **extra)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in ItemSummary.model_fields}


def flat(holder: Any) -> dict[str, Any]:
    """A dataclass that holds an `item: ItemSummary` as one flat dict: the summary's keys,
    then the holder's own fields, in declaration order (the JSON its readers know)."""
    own = {f.name: getattr(holder, f.name) for f in fields(holder) if f.name != "item"}
    return {**holder.item.as_dict(), **own}
