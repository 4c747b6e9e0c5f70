"""A deterministic reading of a message against the catalog's own words.

It backs the LLM up in three ways: it is the whole intent in reduced mode (LLM down, slow or
invalid); its explicit findings (a price said in digits, a brand named after "not", "#2")
override the LLM's, because a 0.5B model mangles numbers and negations; and it vetoes LLM
values the message never said (a price or brand not in the text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.intent import Intent
from agent.vocabulary import Vocabulary

_NUMBER = r"\$?\s?(\d+(?:\.\d{1,2})?)\s*(?:\$|dollars?|usd|bucks)?"
_MAX = re.compile(
    r"\b(?:under|below|less than|cheaper than|max(?:imum)?|at most|up to|no more than|"
    r"within|budget(?: of| is)?|not over|not more than)\s*" + _NUMBER
)
_MIN = re.compile(
    r"\b(?:over|above|more than|at least|min(?:imum)?|from|starting at|no less than)\s*" + _NUMBER
)
_RANGE = re.compile(
    r"\b(?:between\s*)?\$\s?(\d+(?:\.\d{1,2})?)\s*(?:-|–|to|and)\s*\$?\s?(\d+(?:\.\d{1,2})?)"
    r"|\bbetween\s*(\d+(?:\.\d{1,2})?)\s*(?:and|-|to)\s*(\d+(?:\.\d{1,2})?)"
)
_ANY_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# A number is a price only with one of these near it ("a 1 inch barrel" is no price limit).
_PRICE_CUE = re.compile(
    r"\$|\b(?:dollars?|usd|bucks|price[ds]?|budget|cost[s]?|spend|cheap\w*|expensive|afford\w*|"
    r"under|below|less than|over|above|more than|at most|at least|up to|max(?:imum)?|"
    r"min(?:imum)?|between|within)\b"
)
_NEGATION = re.compile(
    r"\b(?:not|no|except|without|avoid|other than|anything but|but not|exclude|excluding|"
    r"instead of|skip|nothing from|none from|don't|dont|hate|dislike)\b[\w\s'&-]{0,12}$"
)
_ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3,
    "fourth": 4, "4th": 4, "fifth": 5, "5th": 5,
}  # fmt: skip
_REF = re.compile(
    r"#\s?(\d{1,2})\b|\b(?:number|no\.|item|option)\s?(\d{1,2})\b|"
    r"\b(first|second|third|fourth|fifth|1st|2nd|3rd|4th|5th|(?<=the )last)\b"
    r"(?:\s+(?:one|item|option|product|suggestion))?"  # "to last all day" points at nothing
)
_SIMILAR = re.compile(r"\b(?:like|similar|alike|same kind|resembl\w*)\b")
_DETAILS = re.compile(
    r"\b(?:tell me (?:more )?about|more about|details?|describe|what about|info(?:rmation)? "
    r"(?:on|about)|specs?|what is|what's)\b"
)
_CHEAPER = re.compile(r"\b(?:cheaper|less expensive|lower price|more affordable|too expensive)\b")
_MORE = re.compile(
    r"\b(?:(?:show|give|see)(?: me)? (?:some )?(?:more|others|other)|more options|other "
    r"options|anything else|something else|different ones|other ones|what else|next ones|"
    r"(?:a )?few more|some more|more please)\b"
)
_FOCUS_BRAND = re.compile(
    r"\b(?:not|no|other than|different from|avoid)\s+(?:that|this|the same|those|these)\s+"
    r"brands?\b|\b(?:different|another|other) brands?\b"
)
# "not Panasonic", "anything but Lamy": a name the catalog has no brand field for (brands
# of the Office data live in titles) is refused by the words of the title.
_NEGATED_NAME = re.compile(
    r"\b(?:not|no|except|without|avoid|other than|anything but|but not|excluding|nothing from)"
    r"\s+(?:an?\s+|the\s+|from\s+)?([A-Z][\w&'\-]+)"
)
_BY = re.compile(r"\b(?:from|by|made by|brand|only|just)\s*$")
_ANY_BRAND = re.compile(r"\bany brand\b")
_ANY_PRICE = re.compile(r"\b(?:any price|no (?:price )?limit|price doesn't matter)\b")
_COMPLEMENT = re.compile(
    r"\b(?:go(?:es)?(?: well| nicely)? with|pairs? (?:well )?with|to go with|complements?|"
    r"accessor(?:y|ies) for|what else (?:do|would|should|might) i (?:need|want|get)|"
    r"need (?:for|with) (?:it|this|that)|bought (?:with|together)|use (?:it )?with)\b"
)
# "something to take my mascara off": the product removes what the message names.
_REMOVE = re.compile(
    r"\b(?:take|get|wipe|rub|wash)\b(?:\s+[\w'-]+){0,4}?\s+off\b|\bremov(?:e|es|ing)\b|"
    r"\bget rid of\b"
)
REMOVER = "remover"
_GREETING = re.compile(r"^\s*(?:hi|hello|hey|thanks|thank you|ok|okay|great|cool)\b[\s!.]*$")
_STOP_WORDS = (
    "i im i'm me my a an the some any for to of in on with and or but please show find need "
    "want looking look get something anything under below over above than less more cheaper "
    "price dollars usd bucks budget up at most least max min is are it this that these those "
    "one ones can you could would like buy good nice new not no instead from tell about brand "
    "brands fine hi hello hey thanks ok okay see give other others first second third fourth "
    "fifth last number item option options similar same again also just only too very really "
    "do does what goes go well with else pair pairs complement complements bought together "
    "use help am so different another "
)
_STOP = frozenset(_STOP_WORDS.split())


@dataclass
class Reading:
    """What the rules found; `explicit` names the fields the message stated outright."""

    intent: Intent
    product_type: str = ""
    explicit: set[str] = field(default_factory=set)
    exclude_focus_brand: bool = False
    complement: bool = False  # "what goes well with it": things bought with an item
    exclude_words: list[str] = field(default_factory=list)  # refused names, not catalog brands
    clear_brands: bool = False
    clear_prices: bool = False
    numbers: tuple[float, ...] = ()
    price_cue: bool = False  # the message speaks of a price at all


def read_message(message: str, vocabulary: Vocabulary) -> Reading:
    """Read the message with the catalog's vocabulary and a few patterns."""
    text = message.lower()
    reading = Reading(intent=Intent(action="search", query=""))
    intent = reading.intent
    reading.numbers = tuple(float(n) for n in _ANY_NUMBER.findall(text))
    reading.price_cue = bool(_PRICE_CUE.search(text))
    _prices(text, reading)
    _brands(message, text, vocabulary, reading)
    reading.complement = bool(_COMPLEMENT.search(text))
    kind = vocabulary.kind_in(_without_names(message, reading))
    if _REMOVE.search(text) and not vocabulary.typed and REMOVER in vocabulary.kinds:
        kind = REMOVER  # what it removes stays in the query's words
    if kind:
        reading.product_type = kind
        reading.explicit.add("type")
    if kind and vocabulary.typed:
        intent.category = vocabulary.types[kind]
        reading.explicit.add("category")
    elif not vocabulary.coded_categories:
        categories = vocabulary.categories_in(message)
        if categories:
            intent.category = categories[-1][1]
            reading.explicit.add("category")
    intent.attributes = vocabulary.colors_in(message)[:3]
    ref = _REF.search(text)
    if ref:
        word = ref.group(3)
        number = ref.group(1) or ref.group(2)
        intent.ref = -1 if word == "last" else (_ORDINALS[word] if word else int(number))
        reading.explicit.add("ref")
    intent.action = _action(text, reading)
    if intent.action not in ("search", "refine"):
        reading.explicit.add("action")
    intent.query = _query(message, vocabulary, reading)
    return reading


def _prices(text: str, reading: Reading) -> None:
    intent = reading.intent
    ranged = _RANGE.search(text)
    if ranged:
        low, high = (g for g in ranged.groups() if g is not None)
        intent.min_price, intent.max_price = sorted((float(low), float(high)))
        reading.explicit |= {"min_price", "max_price"}
        return
    upper = _MAX.search(text)
    if upper:
        intent.max_price = float(upper.group(1))
        reading.explicit.add("max_price")
    lower = _MIN.search(text)
    if lower and (upper is None or lower.start() != upper.start()):
        intent.min_price = float(lower.group(1))
        reading.explicit.add("min_price")
    if _ANY_PRICE.search(text):
        reading.clear_prices = True


def _brands(message: str, text: str, vocabulary: Vocabulary, reading: Reading) -> None:
    intent = reading.intent
    normalized = " ".join(re.findall(r"[a-z0-9&'\-]+", text))
    negated_until = -1  # "not Summitry or Trailwise": a list after a negation stays negated
    generic = set(vocabulary.generic_brands)
    for position, brand in vocabulary.brands_in(message):
        before = normalized[:position]
        after = normalized[position + len(brand) + 1 :]
        capital = re.search(rf"(?<!^)(?<![.!?]\s)\b{re.escape(brand)}\b", message.strip())
        said = (
            _NEGATION.search(before)
            or _BY.search(before)
            or re.match(r"(?:brand|ones|products|only)\b", after)
            or capital  # "only Avery ones": written as a name, not as "retinol cream"
        )
        if brand in generic and not said:
            continue  # "retinol night cream": a word of the request, not the brand Retinol
        between = normalized[negated_until:position] if negated_until >= 0 else "x"
        if _NEGATION.search(before) or re.fullmatch(r"[\s,]*(?:or|and|nor|,)?[\s,]*", between):
            intent.exclude_brands.append(brand)
            negated_until = position + len(brand) + 1
        else:
            intent.brands.append(brand)
    known = {b.lower() for b in [*intent.brands, *intent.exclude_brands]}
    for match in _NEGATED_NAME.finditer(message):
        name = match.group(1)
        if name.lower() not in known and name.lower() not in _STOP:
            reading.exclude_words.append(name)
    if intent.brands:
        reading.explicit.add("brands")
    if intent.exclude_brands:
        reading.explicit.add("exclude_brands")
    reading.exclude_focus_brand = bool(_FOCUS_BRAND.search(text))
    reading.clear_brands = bool(_ANY_BRAND.search(text))


def _without_names(message: str, reading: Reading) -> str:
    """The message without the brands and refused names it says (not product kinds)."""
    intent = reading.intent
    text = message
    for name in [*intent.brands, *intent.exclude_brands, *reading.exclude_words]:
        text = re.sub(rf"(?<![\w&]){re.escape(name)}(?![\w&])", " ", text, flags=re.IGNORECASE)
    return text


def _action(text: str, reading: Reading) -> str:
    has_ref = reading.intent.ref is not None
    if reading.complement:
        return "complement"
    if has_ref and _DETAILS.search(text) and not _SIMILAR.search(text):
        return "details"
    if has_ref and _SIMILAR.search(text):
        return "similar"
    if _CHEAPER.search(text) and "max_price" not in reading.explicit:
        return "cheaper"
    if _MORE.search(text) and not reading.product_type:
        return "more"
    if has_ref:
        return "details"
    if _GREETING.match(text):
        return "chat"
    if reading.product_type:
        return "search"
    return "refine"


def _query(message: str, vocabulary: Vocabulary, reading: Reading) -> str:
    """The product words of the message: what is left after prices, brands and filler."""
    text = message.lower()
    named = [*reading.intent.brands, *reading.intent.exclude_brands, *reading.exclude_words]
    for brand in sorted(named, key=len, reverse=True):  # only the names the message says
        text = re.sub(rf"(?<![\w&]){re.escape(brand.lower())}(?![\w&])", " ", text)
    text = _RANGE.sub(" ", text)
    text = _MAX.sub(" ", text)
    text = _MIN.sub(" ", text)
    words = [w for w in re.findall(r"[a-z0-9][a-z0-9\-']*", text) if w not in _STOP]
    words = [w for w in words if not w.isdigit() and not re.fullmatch(r"#?\d+(st|nd|rd|th)?", w)]
    query = " ".join(words)
    if reading.product_type and reading.product_type not in query:
        query = f"{query} {reading.product_type}".strip()
    return query[:120]
