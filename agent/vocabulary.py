"""The catalog's own words, derived from its products, never written for one catalog.

Categories, brands, colours and product types (`attributes.type`) where the catalog has
them; product *kinds* (what a shopper names: "calculator", "desk organizer", "shampoo")
from the catalog's category paths and the word pairs and words its titles share; every
catalog word with its document frequency (to mend typos and to notice a request the
catalog cannot serve); and the similarity above which an item is close to a request,
calibrated on the catalog (`agent/calibration.py`). `longtail ingest` derives and stores it
with the store; the agent loads it from there (or derives it when it is absent).
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from catalog.models import Product

VOCABULARY_FILE = "vocabulary.json"
MIN_KIND_PRODUCTS = 3  # a title word (pair) names a kind when at least this many products share it
MAX_KIND_SHARE = 0.25  # ... and at most this share of the catalog (else it is filler: "black")
TYPED_SHARE = 0.5  # a catalog with `attributes.type` on this share of products is typed
TYPO_CUTOFF = 0.88  # difflib ratio for mending a word ("calculater" -> "calculator")
TYPO_MIN_LENGTH = 5
# A word the catalog uses once is mended too when a close word is this many times as common:
# one listing's spelling ("moisturiser") is not how the catalog names the kind ("moisturizer").
MEND_RARE_FACTOR = 20
_INFLECTIONS = ("ing", "ed", "er", "ers", "ings")
# Words that never name a product kind, whatever the titles say: needs, packaging, filler.
_NOT_KINDS_WORDS = """
    gift gifts present presents something anything thing things stuff item items product
    products idea ideas pack packs count set sets piece pieces pcs inch inches ounce ounces
    oz size new quality premium great best value assorted various each per brand brands
"""
NOT_KINDS = frozenset(_NOT_KINDS_WORDS.split())
_STOP_WORDS = """
    a an the and or but of for to in on at by with from into onto over under about above
    below than as is are was were be been it its it's this that these those there here my
    your our their his her him she he we they you i i'm im me us them who whom which what
    when where why how all any some no not only own same so too very can will just don't
    dont should now need needs want wants looking look find get buy show give see please
    would like could also one ones more most less other others another such up down out off
    again new good nice best really much many lot lots thanks hi hello hey ok okay do does
    did have has had make makes something anything everything nothing kind sort type thing
    things stuff cheap cheaper go goes going well else love loves like likes use used using
    start starts work works help keep getting got let lets am
"""
STOP = frozenset(_STOP_WORDS.split())
# Words of a request that name no feature of a product ("now", "price", "the first one"): a
# sentence that says them claims nothing about the product. `request_words` is the one
# reading of a request for the agent's intro check and the evaluator's explanation audit.
_REQUEST_FILLER_WORDS = """
    price prices budget dollars tell first second third fourth fifth last similar instead
    actually around great if then thank
"""
REQUEST_FILLER = STOP | frozenset(_REQUEST_FILLER_WORDS.split())
_REQUEST_WORD = re.compile(r"[a-z][a-z'\-]+")
# Words of conversation, not of products: never "mended" to a catalog word ("brand" is not
# a misspelt "band"), whatever the catalog.
_CONVERSATION_WORDS = """
    brand brands price prices different please another colour color size bigger smaller
    larger better option options budget dollars expensive affordable similar instead rather
    prefer preferably quality school office gift birthday present friend sister brother
    mother father mom dad colleague teacher student kids child children daughter son wife
    husband trip travel camping party wedding christmas holiday room house home works
    starts which these those first second third fourth fifth last cheapest tell about more
    other thanks thank there their where while should could would might
"""
CONVERSATION = frozenset(_CONVERSATION_WORDS.split())
_TOKEN = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*")
# Colour words are attributes, not kinds ("black gel pens" is a gel pen), in any catalog.
_COLOUR_WORDS_WORDS = """
    black white red blue green yellow orange purple pink brown grey gray silver gold beige
    navy teal cyan magenta violet ivory clear color colour colors colours colored
"""
COLOUR_WORDS = frozenset(_COLOUR_WORDS_WORDS.split())
_SEGMENT = re.compile(r"\s*(?:[,(\[|/–:;]|\s-\s)\s*|\s+(?=(?:for|with|by|in)\s)", re.IGNORECASE)
_PURPOSE = frozenset(("for", "with", "by", "in"))
_CLAUSE_BREAK = frozenset(
    [
        "for",
        "with",
        "under",
        "below",
        "over",
        "above",
        "that",
        "who",
        "which",
        "to",
        "from",
        "so",
        "because",
        "but",
        "without",
        "not",
        "except",
        "instead",
        "than",
        "within",
        "between",
    ]
)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().replace("’", "'"))


def stem(word: str) -> str:
    """A plural-blind form: "batteries" -> "battery", "boxes" -> "box", "pens" -> "pen"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and (word.endswith(("ses", "xes", "zes", "ches", "shes"))):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def request_words(text: str) -> set[str]:
    """The words of a request a product could have (lower case, no filler, prices or refs)."""
    return {
        w
        for w in tokens(text)
        if len(w) > 2 and w not in REQUEST_FILLER and _REQUEST_WORD.fullmatch(w)
    }


def stems(text: str) -> list[str]:
    return [stem(t) for t in tokens(text)]


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9&'\-]+", text.lower()))


def _category_parts(category: str) -> list[str]:
    """ "Beauty > Hair Care > Shampoos" -> ["beauty", "hair care", "shampoos"]; parts with no
    letters or ending in a code ("Office category 3") are not words a shopper says."""
    parts = []
    for part in re.split(r"\s*(?:>|&|,|/|\band\b)\s*", category.lower()):
        part = " ".join(re.findall(r"[a-z][a-z'\-]*", part)).strip(" '")
        if part and not re.search(r"\d\s*$", category.strip()):
            parts.append(part)
    return parts


def _coded(categories: list[str]) -> bool:
    """Categories that are codes ("Office category 0" .. "Office category 19"): their only
    distinguishing part is a number, which no shopper says."""
    return bool(categories) and all(re.search(r"\d\s*$", c) for c in categories)


def product_text(product: Product) -> str:
    """The text a kind is looked for in: title, category path and type."""
    return f"{product.title} {product.category} {product.attributes.get('type') or ''}"


@dataclass(frozen=True)
class Vocabulary:
    categories: tuple[str, ...]
    brands: tuple[str, ...]
    types: dict[str, str]  # product type -> its most common category
    colors: tuple[str, ...]
    kinds: dict[str, int] = field(default_factory=dict)  # stemmed kind phrase -> products
    words: dict[str, int] = field(default_factory=dict)  # stemmed catalog word -> products
    similarity_threshold: float | None = None  # calibrated "close to what you described"
    coded_categories: bool = False
    typed: bool = False  # products name their type (`attributes.type`): kinds are types
    # Brands whose name is also a word of other brands' titles ("Retinol", "Skin Care"):
    # a filter only when the shopper says "from X", "by X" or refuses X.
    generic_brands: tuple[str, ...] = ()

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
        categories = sorted({p.category for p in products if p.category})
        brands = sorted({p.brand for p in products if p.brand})
        types = {t: c.most_common(1)[0][0] for t, c in sorted(type_categories.items())}
        typed = sum(c.total() for c in type_categories.values()) >= TYPED_SHARE * len(products)
        words, kinds = _counts(products, brands, colors, typed)
        return cls(
            categories=tuple(categories),
            brands=tuple(brands),
            types=types,
            colors=tuple(sorted(colors)),
            kinds=kinds,
            words=words,
            coded_categories=_coded(categories),
            typed=typed,
            generic_brands=_generic_brands(products, brands),
        )

    # ------------------------------------------------------------------ storage
    def save(self, folder: Path, fingerprint: str) -> Path:
        path = Path(folder) / VOCABULARY_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"fingerprint": fingerprint, **asdict(self)}), encoding="utf-8")
        return path

    @classmethod
    def load(cls, folder: Path, fingerprint: str) -> Vocabulary | None:
        """The stored vocabulary of this catalog, or None (absent, or made for other data)."""
        path = Path(folder) / VOCABULARY_FILE
        if not path.is_file():
            return None
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.pop("fingerprint", None) != fingerprint:
            return None
        for name in ("categories", "brands", "colors", "generic_brands"):
            raw[name] = tuple(raw.get(name, ()))
        return cls(**raw)

    # ------------------------------------------------------------------ lookups
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

    @cached_property
    def prompt_categories(self) -> tuple[str, ...]:
        """Categories worth offering the LLM: none when they are codes, at most 30 otherwise."""
        if self.coded_categories or len(self.categories) > 30:
            return ()
        return self.categories

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

    # ------------------------------------------------------------------ kinds
    def kind_in(self, text: str) -> str:
        """The product kind a request names: a type of a typed catalog, else the last kind
        phrase of its first clause ("a scientific calculator for high school" ->
        "scientific calculator"), pairs before single words; "" when it names none."""
        if self.typed:
            found = self.types_in(text)
            return found[-1][1] if found else ""
        raw = tokens(text)
        cut = next((i for i, w in enumerate(raw) if w in _CLAUSE_BREAK and i > 0), len(raw))
        clauses = [
            [stem(w) for w in part if w not in STOP] for part in (raw[:cut], raw[cut:]) if part
        ]
        for n, clause in enumerate(clauses):
            if n and any(w not in STOP and w.isalpha() and len(w) > 2 for w in clauses[0]):
                break  # the first clause names something (not a kind): not what it is for
            best: tuple[int, int, str] | None = None  # (end, length, phrase)
            for size in (2, 1):
                for start in range(len(clause) - size + 1):
                    phrase = " ".join(clause[start : start + size])
                    if phrase in self.kinds:
                        candidate = (start + size, size, phrase)
                        if best is None or candidate[:2] > best[:2]:
                            best = candidate
            if best is not None:
                return best[2]
        return ""

    def head_words(self, text: str) -> list[str]:
        """The content words of the request's first clause ("a backpack for school" ->
        ["backpack"]): what is asked for, before what it is for."""
        raw = tokens(text)
        cut = next((i for i, w in enumerate(raw) if w in _CLAUSE_BREAK and i > 0), len(raw))
        return self.content_words(" ".join(raw[:cut])) or self.content_words(text)

    def kinds_of(self, text: str) -> list[str]:
        """Every kind phrase in a text (an LLM's list of product kinds, say)."""
        kinds = []
        for part in re.split(r"[,;\n]+", text):
            kind = self.kind_in(part)
            if kind and kind not in kinds:
                kinds.append(kind)
        return kinds

    def matches(self, product: Product, kind: str) -> bool:
        """Whether the product is of this kind: its type (typed catalogs), else every word
        of the kind in its title, category path or type."""
        if not kind:
            return True
        if self.typed:
            return str(product.attributes.get("type") or "").lower() == kind.lower()
        return set(_stem_phrase(kind).split()) <= _product_stems(product)

    def matches_all(self, products: list[Product], kind: str) -> list[bool]:
        """`matches` for many products (their words are read once per catalog)."""
        if self.typed:
            return [self.matches(p, kind) for p in products]
        wanted = set(_stem_phrase(kind).split())
        return [wanted <= _product_stems(p) for p in products]

    def names_as_kind(self, product: Product, kind: str) -> bool:
        """Whether the product's text uses the kind as what it *is*: its last word ends a
        segment of the title or a level of the category path ("Dry Skin Lotion" says "dry"
        but is no "dry"; "Moisture Shampoo, 12 oz" is a shampoo)."""
        head = self.head(kind)
        ends = {s[-1] for s in _head_segments(_without_brand(product.title, product.brand)) if s}
        ends |= {words[-1] for level in product.category.split(">") if (words := stems(level))}
        return head in ends

    def kind_of(self, product: Product) -> str:
        """A product's kind: its type, else the kind the start of its title names."""
        typed = str(product.attributes.get("type") or "")
        return typed.lower() or self.kind_in(_without_brand(product.title, product.brand))

    def head(self, kind: str) -> str:
        """The kind's last word ("scientific calculator" -> "calculator"), or the type."""
        return kind if self.typed else (_stem_phrase(kind).split() or [""])[-1]

    # ------------------------------------------------------------------ words
    def known(self, word: str) -> bool:
        return stem(word) in self.words

    @cached_property
    def _by_length(self) -> dict[int, list[str]]:
        buckets: dict[int, list[str]] = defaultdict(list)
        for word, count in self.words.items():
            if count >= 2 and len(word) >= TYPO_MIN_LENGTH - 1 and word.isalpha():
                buckets[len(word)].append(word)
        return buckets

    def mend(self, word: str) -> str | None:
        """The catalog word a misspelt word most likely means, or None."""
        low = word.lower()
        seen = self.words.get(stem(low), 0)
        if len(low) < TYPO_MIN_LENGTH or not low.isalpha() or seen > 1:
            return None
        if low in STOP or low in CONVERSATION:
            return None
        low = stem(low)
        if len(low) < TYPO_MIN_LENGTH:  # "rains" is "rain", too short to tell from "train"
            return None
        if any(f"{low}{end}" in self.words for end in _INFLECTIONS):
            return None  # a catalog word's stem ("pamper": "pampering"), no typo
        pool = [w for n in range(len(low) - 2, len(low) + 3) for w in self._by_length.get(n, [])]
        pool = [w for w in pool if w != low and self.words[w] >= seen * MEND_RARE_FACTOR]
        close = difflib.get_close_matches(low, pool, n=1, cutoff=TYPO_CUTOFF)
        return close[0] if close else None

    def content_words(self, text: str) -> list[str]:
        """The words of a request that could name a product (not filler, not numbers)."""
        return [t for t in tokens(text) if t not in STOP and len(t) > 2 and t.isalpha()]


def _product_stems(product: Product) -> frozenset[str]:
    return _text_stems(product_text(product))


@lru_cache(maxsize=50_000)
def _text_stems(text: str) -> frozenset[str]:
    return frozenset(stems(text))


def _generic_brands(products: list[Product], brands: list[str]) -> tuple[str, ...]:
    """Brands whose name appears in the titles of at least 3 products of other brands."""
    names = {" ".join(tokens(b)): b for b in brands if tokens(b)}
    others: Counter[str] = Counter()
    for p in products:
        words = tokens(p.title)
        own = " ".join(tokens(p.brand))
        seen = set()
        for size in (1, 2, 3):
            for start in range(len(words) - size + 1):
                phrase = " ".join(words[start : start + size])
                if phrase in names and phrase != own and phrase not in seen:
                    seen.add(phrase)
                    others[phrase] += 1
    return tuple(sorted(names[n] for n, count in others.items() if count >= MIN_KIND_PRODUCTS))


def _without_brand(title: str, brand: str) -> str:
    """The title without its brand at either end ("HP 74XL Ink Cartridge ... Ink HP"):
    Office titles end with the brand, which is no product kind."""
    if not brand:
        return title
    pattern = re.escape(brand)
    title = re.sub(rf"\s*{pattern}\s*$", "", title, flags=re.IGNORECASE)
    return re.sub(rf"^\s*{pattern}\s+", "", title, flags=re.IGNORECASE) or title


def _head_segments(title: str) -> list[list[str]]:
    """A title's segments (split at commas, dashes, brackets, bars and slashes), stemmed,
    without those that say what it is for ("... for Face", "... with Aloe")."""
    segments = []
    for n, part in enumerate(_SEGMENT.split(title)):
        words = stems(part)
        if n and words and words[0] in _PURPOSE:
            continue
        segments.append(words)
    return segments


def _brand_words(products: list[Product]) -> set[str]:
    """Title words that are mostly part of the product's own brand name ("Texas
    Instruments"): a brand, not a kind; "pen" in a brand "Pen + Gear" stays a kind."""
    in_brand: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for p in products:
        own = set(stems(p.brand))
        for w in set(stems(p.title)):
            total[w] += 1
            in_brand[w] += w in own
    return {w for w, n in in_brand.items() if n >= 0.5 * total[w]}


def _stem_phrase(phrase: str) -> str:
    return " ".join(stems(phrase))


def _counts(
    products: list[Product], brands: list[str], colors: set[str], typed: bool
) -> tuple[dict[str, int], dict[str, int]]:
    """Document frequencies of catalog words and of kind phrases."""
    noise = {stem(c) for c in colors} | COLOUR_WORDS | STOP | NOT_KINDS
    noise |= _brand_words(products)
    words: Counter[str] = Counter()
    pairs: Counter[str] = Counter()
    singles: Counter[str] = Counter()
    parts: Counter[str] = Counter()
    for p in products:
        text = stems(f"{p.title} {p.category} {p.attributes.get('type') or ''}")
        words.update(set(text))
        for segment in _head_segments(_without_brand(p.title, p.brand)):
            # The kind a title names is the noun that ends a segment ("... Scientific
            # Calculator, Black"), with the word before it ("scientific calculator").
            ok = [w.isalpha() and len(w) > 2 and w not in noise for w in segment]
            if segment and ok[-1]:
                singles[segment[-1]] += 1
                if len(segment) > 1 and ok[-2] and segment[-2] != segment[-1]:
                    pairs[f"{segment[-2]} {segment[-1]}"] += 1
        parts.update({_stem_phrase(x) for x in _category_parts(p.category)})
    if typed:
        kinds: Counter[str] = Counter(
            _stem_phrase(str(p.attributes["type"])) for p in products if p.attributes.get("type")
        )
        return dict(words), dict(kinds)
    ceiling = MAX_KIND_SHARE * len(products)
    kinds = Counter({k: n for k, n in parts.items() if n < 0.5 * len(products) and k not in noise})
    for counter in (pairs, singles):
        for phrase, n in counter.items():
            if MIN_KIND_PRODUCTS <= n <= ceiling:
                kinds[phrase] = max(kinds[phrase], n)
    return dict(words), dict(kinds)
