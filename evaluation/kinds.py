"""What kind of product an item is, in the catalog's own words, for simulated shoppers.

A shopper who wants an item names its kind, not its title or brand. Where the catalog states
a product type (`attributes.type`, as the demo store does) that is the kind; where it has a
category path ("Beauty > Makeup > Eyes > Mascara") the kind is its leaf. Where categories
are codes (Amazon Office: "Office category 8"), the item text ends with the leaf category
and the brand ("... 12-Pack Rollerball Pens Pilot"), so the kind is the longest ending
phrase that many items of the catalog share once their brand is removed.
"""

from __future__ import annotations

import re
from collections import Counter

from catalog.models import Product

MESSAGE_TEMPLATE = "I'm looking for {kind}"  # what a simulated shopper says
PATH_SEPARATOR = " > "
MIN_SHARED_ENDING = 5  # items that must end with a phrase before it counts as a kind
MAX_KIND_WORDS = 3
BRAND_WORDS_AFTER_KIND = 4  # an unknown brand is at most this many words after the kind
_QUOTED_PARTS = re.compile(r"""['"],\s*['"]""")  # a list flattened into one path element


def message_for(kind: str) -> str:
    return MESSAGE_TEMPLATE.format(kind=kind.lower())


def kind_messages(products: list[Product]) -> dict[str, str]:
    """item_id -> what a shopper who wants it says ('' where its text gives no kind)."""
    return {
        item: message_for(kind) if kind else "" for item, kind in product_kinds(products).items()
    }


def path_leaf(category: str) -> str:
    """The last element of a category path, '' when the category is not a path."""
    if PATH_SEPARATOR not in category:
        return ""
    leaf = _QUOTED_PARTS.split(category.split(PATH_SEPARATOR)[-1])[-1]
    return leaf.strip(" '\"")


def _without_brand(product: Product) -> list[str]:
    words = product.title.split()
    brand = product.brand.split()
    if brand and words[-len(brand) :] == brand:
        words = words[: -len(brand)]
    return words


def _endings(products: list[Product]) -> Counter[tuple[str, ...]]:
    """How many branded items end with each phrase of 1..MAX_KIND_WORDS words (lowercase)."""
    counts: Counter[tuple[str, ...]] = Counter()
    for p in products:
        if not p.brand:
            continue
        words = [w.lower() for w in _without_brand(p)]
        for n in range(1, min(MAX_KIND_WORDS, len(words) - 1) + 1):
            counts[tuple(words[-n:])] += 1
    return counts


def _text_kind(product: Product, shared: Counter[tuple[str, ...]]) -> str:
    """The longest shared ending phrase; for an item without a known brand, the latest
    shared phrase among its last words (its unknown brand follows it)."""
    words = _without_brand(product)
    lowered = [w.lower() for w in words]
    last = len(words) if product.brand else min(len(words), BRAND_WORDS_AFTER_KIND + 1)
    stops = [len(words)] if product.brand else range(len(words), len(words) - last, -1)
    for stop in stops:
        best = 0
        for n in range(1, min(MAX_KIND_WORDS, stop - 1) + 1):
            phrase = lowered[stop - n : stop]
            if shared[tuple(phrase)] < MIN_SHARED_ENDING or _stem(phrase[0]) in {
                _stem(w) for w in phrase[1:]
            }:  # "Printer Laser Printers": the title's last word, not the category's
                break
            best = n
        if best:
            start = stop - best
            if lowered[start] in ("&", "and") and start > 0:  # "Arms & Stands" -> "Monitor ..."
                start -= 1
            return " ".join(words[start:stop])
    return ""


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") else word


def product_kinds(products: list[Product]) -> dict[str, str]:
    """item_id -> kind words ('' where the catalog's text gives none)."""
    shared = _endings(products)
    paths = any(PATH_SEPARATOR in p.category for p in products)
    kinds = {}
    for p in products:
        stated = p.attributes.get("type")
        if isinstance(stated, str) and stated:
            kinds[p.item_id] = stated
        else:
            kinds[p.item_id] = path_leaf(p.category) if paths else _text_kind(p, shared)
    return kinds
