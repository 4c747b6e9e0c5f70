"""The one filter type: what every suggestion must satisfy, from the session to the ranker.

The agent's constraints, the REST API's request and the LLM's tool arguments each become a
`Filters` at their edge; the ranker and the search apply it exactly as it is. A plain dict
(the CLI's `--filters` JSON, a test) goes through `Filters.parse`: an unknown field or an
inverted price range is a FilterError rather than an ignored key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.errors import LongtailError


class FilterError(LongtailError):
    """A filter with an unknown field, an inverted price range or a value the catalog lacks."""


class Filters(BaseModel):
    """Every result satisfies every field; an empty field does not filter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    exclude_brands: tuple[str, ...] = ()
    min_price: float | None = Field(None, ge=0)
    max_price: float | None = Field(None, ge=0)
    exclude_ids: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _price_range(self) -> Filters:
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

    @classmethod
    def checked(cls, **values: Any) -> Filters:
        """Filters from field values; a bad value is a FilterError that names its field."""
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = "; ".join(_problem(error) for error in exc.errors())
            raise FilterError(f"bad filters: {problems}") from None

    @classmethod
    def parse(cls, filters: Filters | Mapping[str, Any] | None) -> Filters:
        """Filters from Filters, a dict (a single string counts as a one-name list) or None."""
        if filters is None:
            return cls()
        if isinstance(filters, Filters):
            return filters
        if not isinstance(filters, Mapping):
            raise FilterError(f"filters must be a mapping, got {type(filters).__name__}")
        known = list(cls.model_fields)
        unknown = [key for key in filters if key not in known]
        if unknown:
            raise FilterError(f"unknown filter field {unknown[0]!r}; known: {', '.join(known)}")
        return cls.checked(
            **{
                key: (value,)
                if isinstance(value, str) and key not in ("min_price", "max_price")
                else value
                for key, value in filters.items()
            }
        )


def _problem(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message
