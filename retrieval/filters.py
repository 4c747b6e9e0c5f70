"""Search filters: one validated object, so every signal applies exactly the same filter.

Callers (the CLI, the agent's tools) may pass a plain dict, e.g. from an LLM's JSON; an
unknown field or an inverted price range is a FilterError rather than an ignored key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from retrieval.errors import FilterError


class SearchFilters(BaseModel):
    """Every result satisfies every field; an empty field does not filter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    exclude_brands: tuple[str, ...] = ()
    min_price: float | None = Field(None, ge=0)
    max_price: float | None = Field(None, ge=0)
    exclude_ids: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _price_range(self) -> SearchFilters:
        if (
            self.min_price is not None
            and self.max_price is not None
            and self.min_price > self.max_price
        ):
            raise ValueError(
                f"the price range is inverted: min_price {self.min_price:g} > "
                f"max_price {self.max_price:g}"
            )
        return self


def parse_filters(filters: SearchFilters | Mapping[str, Any] | None) -> SearchFilters:
    """A SearchFilters from a SearchFilters, a dict or None; bad input is a FilterError."""
    if filters is None:
        return SearchFilters()
    if isinstance(filters, SearchFilters):
        return filters
    if not isinstance(filters, Mapping):
        raise FilterError(f"filters must be a mapping, got {type(filters).__name__}")
    known = list(SearchFilters.model_fields)
    unknown = [key for key in filters if key not in known]
    if unknown:
        raise FilterError(f"unknown filter field {unknown[0]!r}; known: {', '.join(known)}")
    values = {
        key: (value,) if isinstance(value, str) and key not in ("min_price", "max_price") else value
        for key, value in filters.items()
    }
    try:
        return SearchFilters(**values)
    except ValidationError as exc:
        problems = "; ".join(_problem(error) for error in exc.errors())
        raise FilterError(f"bad filters: {problems}") from None


def _problem(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message
