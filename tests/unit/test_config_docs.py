"""docs/configuration.md documents every setting with its real default, so the docs stay
true when a key is added or a default changes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from core.settings import Settings

CONFIG_DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
DOC = CONFIG_DOC.read_text(encoding="utf-8")
# This table names its keys without the `api.` prefix.
API_TABLE = "## REST API and screens (`[api]`)"


def documented_defaults() -> dict[str, str]:
    """key → the default column of its first table row."""
    api_start = DOC.index(API_TABLE)
    api_end = DOC.index("\n\n", DOC.index("| key", api_start))
    rows: dict[str, str] = {}
    for row in re.finditer(r"^\| `([a-z_.]+)` \| (.*?) \|", DOC, re.M):
        key = row.group(1)
        if api_start < row.start() < api_end:
            key = f"api.{key}"
        rows.setdefault(key, row.group(2))
    return rows


def settings_defaults() -> dict[str, Any]:
    keys: dict[str, Any] = {}
    for name, field in Settings.model_fields.items():
        section = field.annotation
        if isinstance(section, type) and issubclass(section, BaseModel):
            for sub, subfield in section.model_fields.items():
                keys[f"{name}.{sub}"] = subfield.get_default(call_default_factory=True)
        else:  # `home` depends on the environment: documented in words
            keys[name] = None if field.default_factory else field.default
    return keys


def spellings(default: Any) -> set[str] | None:
    """How the docs may write a default; None: computed at run time, any text will do."""
    if default is None:
        return None
    if default == "":
        return {"empty"}
    if isinstance(default, bool):
        return {f"`{str(default).lower()}`"}
    if isinstance(default, float) and default.is_integer():
        return {f"`{default}`", f"`{int(default)}`"}
    return {f"`{default}`"}


@pytest.mark.parametrize("key", sorted(settings_defaults()))
def test_every_setting_is_documented_with_its_default(key: str) -> None:
    rows = documented_defaults()
    assert key in rows, f"docs/configuration.md has no configuration row for `{key}`"
    allowed = spellings(settings_defaults()[key])
    if allowed is not None:
        assert rows[key] in allowed, f"docs/configuration.md gives `{key}` the default {rows[key]}"
