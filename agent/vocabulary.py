"""The catalog's own words (categories, brands, product types, colours), for reading
messages and checking what the LLM proposes against what the shop really has."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cached_property

from catalog.models import Product


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9&'\-]+", text.lower()))


@dataclass(frozen=True)
class Vocabulary:
    categories: tuple[str, ...]
    brands: tuple[str, ...]
    types: dict[str, str]  # product type -> its most common category
    colors: tuple[str, ...]

    @classmethod
    def from_products(cls, products: list[Product]) -> Vocabulary:
        type_categories: dict[str, Counter[str]] = defaultdict(Counter)
        colors: set[str] = set()
        for p in products:
            kind = p.attributes.get("type")
            if isinstance(kind, str) and kind:
                type_categories[kind.lower()][p.category] += 1
            color = p.attributes.get("color")
            if isinstance(color, str) and color:
                colors.add(color.lower())
        return cls(
            categories=tuple(sorted({p.category for p in products if p.category})),
            brands=tuple(sorted({p.brand for p in products if p.brand})),
            types={t: c.most_common(1)[0][0] for t, c in sorted(type_categories.items())},
            colors=tuple(sorted(colors)),
        )

    @cached_property
    def _brand_lookup(self) -> dict[str, str]:
        return {b.lower(): b for b in self.brands}

    @cached_property
    def _category_lookup(self) -> dict[str, str]:
        lookup = {c.lower(): c for c in self.categories}
        for c in self.categories:  # "outdoor & hiking" is also said "outdoor" or "hiking gear"
            for part in re.split(r"\s*&\s*|\s+and\s+", c.lower()):
                lookup.setdefault(part.strip(), c)
        return lookup

    def brand(self, text: str) -> str | None:
        """The catalog's spelling of a brand name, or None."""
        return self._brand_lookup.get(text.strip().lower())

    def category(self, text: str) -> str | None:
        return self._category_lookup.get(text.strip().lower())

    def find(self, names: list[str] | tuple[str, ...], text: str) -> list[tuple[int, str]]:
        """(position, name) of each name found in text as whole words (plurals too), longest
        names first so "hiking backpack" wins over "backpack"; sorted by position."""
        haystack = f" {_words(text)} "
        found: list[tuple[int, str]] = []
        taken: list[tuple[int, int]] = []
        for name in sorted(names, key=len, reverse=True):
            base = _words(name)
            if not base:
                continue
            variants = [base, f"{base}s", f"{base}es"]
            if base.endswith("s"):
                variants.append(base[:-1])
            for variant in variants:
                start = haystack.find(f" {variant} ")
                if start < 0:
                    continue
                end = start + len(variant) + 2
                if not any(s < end and start < e for s, e in taken):
                    taken.append((start, end))
                    found.append((start, name))
                break
        return sorted(found)

    def brands_in(self, text: str) -> list[tuple[int, str]]:
        return self.find(self.brands, text)

    def types_in(self, text: str) -> list[tuple[int, str]]:
        return self.find(tuple(self.types), text)

    def categories_in(self, text: str) -> list[tuple[int, str]]:
        return [(pos, c) for pos, c in self.find(self.categories, text)]

    def colors_in(self, text: str) -> list[str]:
        return [c for _, c in self.find(self.colors, text)]
