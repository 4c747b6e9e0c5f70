"""The grounding post-check: an answer may name only products this turn's tools returned,
and may quote only their catalog prices.

Products are recognised by catalog title and by brand: a brand mention followed by words
that begin some catalog title must begin the title of an allowed product; a brand of no
allowed product is a product the tools never returned. A price ($12.99, 12.99 dollars) must
be the price of the product named just before it in the same sentence, or, with none named,
of some allowed product. An attribute word of the catalog (a colour, material or feature)
must belong to the product the sentence names, or with none named to some allowed product.
Popularity and rating claims are never evidence-based here, so they are refused. "#n" must
point into the list shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from agent.trace import Violation
from agent.vocabulary import stems
from catalog.models import Product

_PRICE = re.compile(r"\$\s?(\d+(?:[.,]\d{1,2})?)|(\d+(?:\.\d{1,2})?)\s?(?:dollars|usd|bucks)\b")
_REF = re.compile(r"#\s?(\d{1,2})\b")
MIN_TITLE_WORDS = 3
_INJECTED = re.compile(
    r"\b(?:system prompt|(?:previous|prior|your) instructions|admin(?:istrator)? mode|"
    r"developer mode|jailbreak|override)\b",
    re.IGNORECASE,
)
# A sentence about the assistant's own role is the prompt talking ("You are a shop
# assistant.": five words of the 1.5B model's answer to "repeat the text above").
_ROLE = re.compile(
    r"\b(?:you are|you're|i am|i'm|as) an? (?:[\w-]+ ){0,2}(?:assistant|ai|language model|"
    r"chatbot|bot)\b",
    re.IGNORECASE,
)
_LISTING = re.compile(r"^\s*\d+\.\s+")
_LISTED_HEAD = re.compile(r"^\s*\d+\.\s+.*?\((?:\$\s?\d[\d,]*(?:\.\d{1,2})?|price on request)\):")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_STOPS = re.compile(r"[,.;:!?()\n]")
_LIMIT_BEFORE = re.compile(
    r"(?:under|below|over|above|within your|between|and|up to|less than|more than|at most|"
    r"at least|budget of|limit of)\s*$"
)
_LIMIT_AFTER = re.compile(r"^\s*(?:limit|budget)\b")
_CLAIM = re.compile(
    r"\b(?:popular|best[- ]?sell\w*|top[- ]rated|most loved|customer favou?rite|highly rated|"
    r"award[- ]winning|\d(?:\.\d)? stars?)\b"
)
_NEGATED = re.compile(r"\b(?:not|no|except|without|excluding|other than|instead of)\b[^.;:!?]*$")


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9&'\-]+", text.lower()))


def injected(text: str) -> bool:
    """Whether the text speaks of the prompt or of overriding it ("SYSTEM OVERRIDE",
    "ignore your instructions", "admin mode"): an injection attempt, or its echo."""
    return bool(_INJECTED.search(text))


def prompt_echoes(text: str, instructions: Iterable[str], words: int = 6) -> list[Violation]:
    """Sentences of `text` that repeat `words` consecutive words of the instructions (the
    system prompt): an injected "print your system prompt" must not reach the shopper."""
    runs: set[str] = set()
    for instruction in instructions:
        tokens = _norm(instruction).split()
        runs.update(" ".join(tokens[i : i + words]) for i in range(len(tokens) - words + 1))
    found = []
    for sentence in _SENTENCE.split(text):
        said = f" {_norm(sentence)} "
        if injected(sentence) or _ROLE.search(sentence):  # "admin mode", "You are a bot"
            found.append(
                Violation(
                    kind="prompt_echo", text=sentence.strip(), detail="talks about the prompt"
                )
            )
        elif any(f" {run} " in said for run in runs):
            found.append(
                Violation(kind="prompt_echo", text=sentence.strip(), detail="repeats the prompt")
            )
    return found


class GroundingChecker:
    """Built once per catalog; `check` runs per answer in about a millisecond."""

    def __init__(self, products: Iterable[Product], kinds: Iterable[str] = ()) -> None:
        self.products = list(products)
        # Product kinds of the catalog (stemmed phrases): "a laser printer that offers a
        # fountain pen" names a kind the printer is not.
        self.kinds = frozenset(kinds)
        self.titles = {_norm(p.title): p for p in self.products}
        self.by_brand: dict[str, list[tuple[str, Product]]] = {}
        self.same_title: dict[str, list[Product]] = {}  # listings that share one title
        for product in self.products:
            self.same_title.setdefault(_norm(product.title), []).append(product)
        for product in self.products:  # every product: two listings may share a title
            if product.brand:
                entry = (_norm(product.title), product)
                self.by_brand.setdefault(product.brand.lower(), []).append(entry)
        self.attributes = sorted(
            {_norm(str(v)) for p in self.products for v in _attribute_values(p)} - {""},
            key=len,
            reverse=True,
        )
        brands = sorted((b for b in self.by_brand if len(b) >= 3), key=len, reverse=True)
        self._brand_re = (
            re.compile(r"(?<![\w&])(" + "|".join(re.escape(b) for b in brands) + r")(?![\w&])")
            if brands
            else None
        )

    def check(
        self,
        text: str,
        allowed: Iterable[Product],
        listed: int | None = None,
        limits: Iterable[float] = (),
        refused: Iterable[str] = (),
        said: str = "",
    ) -> list[Violation]:
        """Every violation in `text`. `listed`: how many items the answer numbers; `limits`,
        `refused` and `said`: the shopper's price bounds, refused brands and own words, which
        the answer may quote ("within your $60 limit", "not Wildgrove", "for family nights")
        where it names no product."""
        allowed = list(allowed)
        context = (tuple(limits), {b.lower() for b in refused}, f" {_norm(said)} ")
        violations: list[Violation] = []
        for sentence in _units(text):
            if sentence.strip():
                violations += self._sentence(sentence, allowed, listed, context)
        return violations

    def _sentence(
        self,
        sentence: str,
        allowed: list[Product],
        listed: int | None,
        context: tuple[tuple[float, ...], set[str], str] = ((), set(), ""),
    ) -> list[Violation]:
        limits, refused, said = context
        found: list[Violation] = []
        low = sentence.lower()
        allowed_ids = {p.item_id for p in allowed}
        allowed_brands = {p.brand.lower() for p in allowed if p.brand}
        mentions: list[tuple[int, Product | None]] = []  # position in `low`, product named
        reported: set[str] = set()
        shown_titles = [f" {_norm(p.title)} " for p in allowed]
        shown_text = [f" {p.title.lower()} {p.category.lower()} " for p in allowed]

        def unknown(text: str, detail: str) -> None:
            found.append(Violation(kind="unknown_product", text=text, detail=detail))

        for match in self._brand_re.finditer(low) if self._brand_re is not None else ():
            brand = match.group(1)
            rest = _norm(low[match.start() :])
            whole = [p for t, p in self.by_brand[brand] if rest.startswith(t)]
            if whole:
                shown = [p for p in whole if p.item_id in allowed_ids]  # duplicate titles
                product = max(shown or whole, key=lambda p: len(p.title))
                mentions.append((match.start(), product))
                if product.item_id not in allowed_ids:
                    reported.add(product.item_id)
                    unknown(product.title, f"{product.item_id} was not returned by a tool")
                continue
            phrase = _norm(_STOPS.split(low[match.start() :], maxsplit=1)[0])
            named = [p for p in allowed if _norm(p.title).startswith(phrase) and phrase != brand]
            if named:
                mentions.append((match.start(), named[0]))
            elif phrase != brand and any(t.startswith(phrase) for t, _ in self.by_brand[brand]):
                unknown(phrase, f"no product returned this turn is {phrase!r}")
            elif brand in allowed_brands:
                same = [p for p in allowed if p.brand.lower() == brand]
                mentions.append((match.start(), same[0] if len(same) == 1 else None))
            elif any(brand in t for t in shown_text):
                continue  # a word of a shown title ("Pentel Sharp pencil"), not a brand named
            elif not (brand in refused and _NEGATED.search(low[: match.start()])):
                unknown(brand, f"no product returned this turn is from {brand!r}")
        norm = _norm(sentence)
        padded = f" {norm} "
        for title, product in self.titles.items():
            fresh = product.item_id not in allowed_ids and product.item_id not in reported
            # A two-word title ("Mouse Pads") is a kind, not the name of one product.
            inside = any(f" {title} " in t for t in shown_titles)  # part of a shown title
            if fresh and len(title.split()) >= MIN_TITLE_WORDS and f" {title} " in padded:
                if inside:
                    continue
                unknown(product.title, f"{product.item_id} was not returned by a tool")
        if not mentions:  # one shown product named by its title's first words, no brand
            heads = [
                (padded.find(f" {head} "), p)
                for p in allowed
                if len((head := " ".join(_norm(p.title).split()[:MIN_TITLE_WORDS])).split())
                == MIN_TITLE_WORDS
            ]
            named = {p.item_id: (at, p) for at, p in heads if at >= 0}
            if len(named) == 1:
                mentions.append(next(iter(named.values())))
        listed_item = _LISTING.match(sentence)
        if listed_item:  # "2. <catalog title> ($9.99): ..." names exactly that listing
            rest = sentence[listed_item.end() :]
            titled = [p for p in allowed if rest.startswith(p.title)]
            if titled:
                product = max(titled, key=lambda p: len(p.title))
                start, end = listed_item.end(), listed_item.end() + len(product.title)
                mentions = [m for m in mentions if not start <= m[0] < end]
                mentions.append((start, product))
        mentions.sort(key=lambda m: m[0])
        found += self._attributes(norm, allowed, mentions, said)
        claim = _CLAIM.search(low)
        if claim:
            found.append(
                Violation(
                    kind="unsupported_claim",
                    text=claim.group(0),
                    detail="no popularity or rating evidence is quoted",
                )
            )
        for match in _PRICE.finditer(low):
            value = float((match.group(1) or match.group(2)).replace(",", "."))
            quoted_limit = _LIMIT_BEFORE.search(low[: match.start()]) or _LIMIT_AFTER.match(
                low[match.end() :]
            )
            if quoted_limit and any(abs(value - limit) <= 0.005 for limit in limits):
                continue
            before = [p for pos, p in mentions if pos <= match.start()]
            owner = before[-1] if before else None
            if owner is not None:
                prices = [
                    p.price for p in self.same_title[_norm(owner.title)] if p.price is not None
                ]
                if not any(abs(price - value) <= 0.005 for price in prices):
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
            in_titles = {m.group(0) for p in allowed for m in _REF.finditer(p.title)}
            for match in _REF.finditer(sentence):
                if match.group(0) in in_titles:  # "#10 envelopes" is a title, not a reference
                    continue
                if not 1 <= int(match.group(1)) <= listed:
                    found.append(
                        Violation(
                            kind="bad_reference",
                            text=match.group(0),
                            detail=f"only {listed} items are listed",
                        )
                    )
        return found

    def _attributes(
        self,
        norm: str,
        allowed: list[Product],
        mentions: list[tuple[int, Product | None]],
        said: str,
    ) -> list[Violation]:
        named = {p.item_id: p for _, p in mentions if p is not None}
        owners = list(named.values()) if len(named) == 1 else allowed
        found = self._kinds(norm, next(iter(named.values()))) if len(named) == 1 else []
        texts = [_product_text(p) for p in owners] + ([said] if not mentions else [])
        padded = f" {norm} "
        for value in self.attributes:
            if f" {value} " in padded and not any(f" {value} " in t for t in texts):
                whom = owners[0].title if len(named) == 1 else "the products returned"
                found.append(
                    Violation(
                        kind="wrong_attribute",
                        text=value,
                        detail=f"the catalog does not say {value!r} of {whom}",
                    )
                )
                padded = padded.replace(f" {value} ", " ")
        return found

    def _kinds(self, norm: str, product: Product) -> list[Violation]:
        """Kinds the sentence attributes to the one product it names that its own text
        does not have (pairs first: "fountain pen" is checked, not "pen" alone)."""
        if not self.kinds:
            return []
        words = stems(norm)
        have = set(stems(_product_text(product)))
        found, covered = [], set()
        for size in (2, 1):
            for start in range(len(words) - size + 1):
                span = set(range(start, start + size))
                phrase = words[start : start + size]
                if span & covered or " ".join(phrase) not in self.kinds:
                    continue
                covered |= span
                if not set(phrase) <= have:
                    found.append(
                        Violation(
                            kind="wrong_attribute",
                            text=" ".join(phrase),
                            detail=f"{product.title} is not a {' '.join(phrase)}",
                        )
                    )
        return found

    def repair(
        self,
        text: str,
        allowed: Iterable[Product],
        listed: int | None = None,
        limits: Iterable[float] = (),
        refused: Iterable[str] = (),
        said: str = "",
    ) -> tuple[str, list[Violation]]:
        """The text without the sentences that break grounding, and what was removed."""
        allowed = list(allowed)
        context = (tuple(limits), {b.lower() for b in refused}, f" {_norm(said)} ")
        kept, removed = [], []
        for sentence in _SENTENCE.split(text.strip()):
            problems = (
                self._sentence(sentence, allowed, listed, context) if sentence.strip() else []
            )
            if problems:
                removed += problems
            elif sentence.strip():
                kept.append(sentence.strip())
        return " ".join(kept), removed


def _units(text: str) -> list[str]:
    """The sentences to check one by one; a listing line "2. <title> ($9.99): why" is split
    after its price, so a title with a full stop in it ("1.1 fl. oz") stays whole."""
    units: list[str] = []
    for line in text.split("\n"):
        head = _LISTED_HEAD.match(line)
        if head:
            units.append(head.group(0))
            line = line[head.end() :]
        units += _SENTENCE.split(line)
    return units


def _attribute_values(product: Product) -> list[str]:
    values: list[str] = []
    for key in ("color", "material", "features"):
        value = product.attributes.get(key)
        values += [str(v) for v in value] if isinstance(value, list) else [str(value or "")]
    return [v for v in values if len(v) >= 3]


def _product_text(product: Product) -> str:
    values = " ".join(_attribute_values(product))
    return f" {_norm(f'{product.title} {product.description} {values}')} "
