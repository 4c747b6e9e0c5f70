"""What shoppers send, bounded and cleaned the same way whichever door it comes through: the
REST API's bodies build on these, and the screens clean their text with `clean_text`."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

ITEM_ID = Annotated[str, Field(min_length=1, max_length=200)]
EventKind = Literal["view", "cart", "purchase"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")


def clean_text(text: str) -> str:
    """The text without control and invisible formatting characters, stripped."""
    return _CONTROL.sub("", text).strip()


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HistoryEvent(Strict):
    item_id: ITEM_ID
    event: EventKind = "purchase"
