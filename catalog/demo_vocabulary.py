"""Word lists for the demo catalog (categories, product types, brands, attributes, prices),
read from `demo_vocabulary.yaml` beside this file.

Each product type has a price range in USD and words that fit it; `follow_ups` names the
types a shopper tends to want next (a tent, then a sleeping bag), which gives the demo log
real sequential patterns for the intent encoder to learn.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

import yaml

VOCABULARY_FILE = Path(__file__).with_name("demo_vocabulary.yaml")


class ProductType(TypedDict):
    name: str
    price: list[float]  # [low, high]
    features: list[str]
    follow_ups: list[str]


class Category(TypedDict):
    name: str
    brands: list[str]
    materials: list[str]
    types: list[ProductType]


def _load() -> dict:
    with VOCABULARY_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


_VOCABULARY = _load()
COLORS: list[str] = _VOCABULARY["colors"]
QUALITIES: list[str] = _VOCABULARY["qualities"]
USES: list[str] = _VOCABULARY["uses"]
CATEGORIES: list[Category] = _VOCABULARY["categories"]
