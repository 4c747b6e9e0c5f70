"""The grounding post-check: an answer may name only products this turn's tools returned,
and may quote only their catalog prices.

Products are recognised by catalog title and by brand: a brand mention followed by words
that begin some catalog title must begin the title of an allowed product; a brand of no
allowed product is a product the tools never returned. A price ($12.99, 12.99 dollars) must
be the price of the product named just before it in the same sentence, or, with none named,
of some allowed product. "#n" must point into the list shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from agent.trace import Violation
from catalog.models import Product

_PRICE = re.compile(r"\$\s?(\d+(?:[.,]\d{1,2})?)|(\d+(?:\.\d{1,2})?)\s?(?:dollars|usd|bucks)\b")
_REF = re.compile(r"#\s?(\d{1,2})\b")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_STOPS = re.compile(r"[,.;:!?()\n]")
_LIMIT_BEFORE = re.compile(
    r"(?:under|below|over|above|within your|between|and|up to|less than|more than|at most|"
    r"at least|budget of|limit of)\s*$"
)
_LIMIT_AFTER = re.compile(r"^\s*(?:limit|budget)\b")


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9&'\-]+", text.lower()))


class GroundingChecker:
    """Built once per catalog; `check` runs per answer in about a millisecond."""

    def __init__(self, products: Iterable[Product]) -> None:
        self.products = list(products)
        self.titles = {_norm(p.title): p for p in self.products}
        brands = {p.brand for p in self.products if p.brand}
        self.brands = {_norm(b): b for b in brands if len(_norm(b)) >= 3}
        self._brand_re = (
            re.compile(
                r"\b("
                + "|".join(re.escape(b) for b in sorted(self.brands, key=len, reverse=True))
                + r")\b"
            )
            if self.brands
            else None
        )

    def check(
        self,
        text: str,
        allowed: Iterable[Product],
        listed: int | None = None,
        limits: Iterable[float] = (),
    ) -> list[Violation]:
        """Every violation in `text`; `listed` is how many items the answer numbers, `limits`
        the shopper's own price bounds, which may be quoted as limits ("within your $60")."""
        allowed = list(allowed)
        limits = tuple(limits)
        violations: list[Violation] = []
        for sentence in _SENTENCE.split(text):
            if sentence.strip():
                violations += self._sentence(sentence, allowed, listed, limits)
        return violations

    def _sentence(
        self,
        sentence: str,
        allowed: list[Product],
        listed: int | None,
        limits: tuple[float, ...] = (),
    ) -> list[Violation]:
        found: list[Violation] = []
        norm = _norm(sentence)
        allowed_titles = {_norm(p.title) for p in allowed}
        allowed_brands = {_norm(p.brand) for p in allowed if p.brand}
        mentions: list[tuple[int, Product | None]] = []  # position in norm, product named
        spans: list[tuple[int, int]] = []
        for title, product in self.titles.items():
            at = norm.find(title)
            if at >= 0:
                spans.append((at, at + len(title)))
                if title not in allowed_titles:
                    found.append(
                        Violation(
                            kind="unknown_product",
                            text=product.title,
                            detail=f"{product.item_id} was not returned by a tool this turn",
                        )
                    )
                mentions.append((at, product))
        if self._brand_re is not None:
            for match in self._brand_re.finditer(norm):
                if any(start <= match.start() < end for start, end in spans):
                    continue  # part of a whole title, judged above
                brand = match.group(1)
                phrase = _norm(_STOPS.split(norm[match.start() :], maxsplit=1)[0])
                named = [
                    p
                    for p in allowed
                    if _norm(p.title).startswith(phrase) or phrase.startswith(_norm(p.title))
                ]
                if named:
                    mentions.append((match.start(), named[0]))
                    continue
                begins_title = phrase != brand and any(t.startswith(phrase) for t in self.titles)
                if begins_title or brand not in allowed_brands:
                    found.append(
                        Violation(
                            kind="unknown_product",
                            text=phrase,
                            detail=f"no product returned this turn is {phrase!r}",
                        )
                    )
                else:
                    same_brand = [p for p in allowed if _norm(p.brand) == brand]
                    mentions.append(
                        (match.start(), same_brand[0] if len(same_brand) == 1 else None)
                    )
        mentions.sort(key=lambda m: m[0])
        for match in _PRICE.finditer(sentence):
            value = float((match.group(1) or match.group(2)).replace(",", "."))
            quoted_limit = _LIMIT_BEFORE.search(sentence[: match.start()]) or _LIMIT_AFTER.match(
                sentence[match.end() :]
            )
            if quoted_limit and any(abs(value - limit) <= 0.005 for limit in limits):
                continue
            at = len(_norm(sentence[: match.start()]))
            before = [p for pos, p in mentions if pos <= at]
            owner = before[-1] if before else None
            if owner is not None:
                if owner.price is None or abs(owner.price - value) > 0.005:
                    found.append(
                        Violation(
                            kind="wrong_price",
                            text=match.group(0),
                            detail=f"{owner.title} costs {owner.price}",
                        )
                    )
            elif not any(p.price is not None and abs(p.price - value) <= 0.005 for p in allowed):
                found.append(
                    Violation(
                        kind="wrong_price",
                        text=match.group(0),
                        detail="no product returned this turn has this price",
                    )
                )
        if listed is not None:
            for match in _REF.finditer(sentence):
                if not 1 <= int(match.group(1)) <= listed:
                    found.append(
                        Violation(
                            kind="bad_reference",
                            text=match.group(0),
                            detail=f"only {listed} items are listed",
                        )
                    )
        return found

    def repair(
        self,
        text: str,
        allowed: Iterable[Product],
        listed: int | None = None,
        limits: Iterable[float] = (),
    ) -> tuple[str, list[Violation]]:
        """The text without the sentences that break grounding, and what was removed."""
        allowed = list(allowed)
        limits = tuple(limits)
        kept, removed = [], []
        for sentence in _SENTENCE.split(text.strip()):
            problems = self._sentence(sentence, allowed, listed, limits) if sentence.strip() else []
            if problems:
                removed += problems
            elif sentence.strip():
                kept.append(sentence.strip())
        return " ".join(kept), removed
