from __future__ import annotations

import pytest

from agent.message_rules import read_message
from agent.understand import mend
from agent.vocabulary import Vocabulary
from catalog.dataset import Dataset
from catalog.models import Product


@pytest.fixture(scope="module")
def vocabulary(demo_dataset: Dataset) -> Vocabulary:
    return Vocabulary.from_products(demo_dataset.products)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "I need a waterproof hiking backpack under $60",
            {"action": "search", "category": "Outdoor & Hiking", "max_price": 60.0},
        ),
        ("not Wildgrove", {"action": "refine", "exclude_brands": ["Wildgrove"]}),
        ("show me more like #2", {"action": "similar", "ref": 2}),
        ("tell me about the second one", {"action": "details", "ref": 2}),
        ("something cheaper", {"action": "cheaper"}),
        ("under 40 instead", {"max_price": 40.0}),
        ("show me more", {"action": "more"}),
        (
            "red yoga mats between $20 and $40 but not Flexa",
            {
                "category": "Fitness",
                "min_price": 20.0,
                "max_price": 40.0,
                "exclude_brands": ["Flexa"],
                "attributes": ["red"],
            },
        ),
        ("a tent from Northpeak", {"brands": ["Northpeak"], "category": "Outdoor & Hiking"}),
        ("over 100 dollars please", {"min_price": 100.0}),
        ("tell me about the last one", {"action": "details", "ref": -1}),
        ("a tent that will last all summer", {"action": "search", "ref": None}),
    ],
)
def test_reading(vocabulary: Vocabulary, message: str, expected: dict) -> None:
    intent = read_message(message, vocabulary).intent.model_dump()
    for key, value in expected.items():
        assert intent[key] == value, (message, key, intent)


def test_product_type_and_focus_brand(vocabulary: Vocabulary) -> None:
    assert read_message("two-person tents?", vocabulary).product_type == "tent"
    assert read_message("hiking backpacks", vocabulary).product_type == "hiking backpack"
    assert read_message("not that brand", vocabulary).exclude_focus_brand
    assert read_message("any price is fine", vocabulary).clear_prices


def test_mending_takes_the_catalogs_spelling_but_keeps_inflections() -> None:
    """A spelling one listing uses ("moisturiser") is mended to the one the catalog names the
    kind by; a word that begins a catalog word ("pamper": "pampering") is no typo."""
    titles = [f"Daily Face Moisturizer {n} oz" for n in range(25)]
    titles += ["Rich Moisturiser Cream", "Pampering Bath Set", "Paper Towels", "Paper Cups"]
    titles += ["Toy Train Set", "Toy Train Track"]
    products = [Product(item_id=f"p{n}", title=t) for n, t in enumerate(titles)]
    vocabulary = Vocabulary.from_products(products)
    assert vocabulary.mend("moisturiser") == "moisturizer"
    assert vocabulary.mend("moisturizer") is None
    assert vocabulary.mend("pamper") is None
    assert vocabulary.mend("moisturzer") == "moisturizer"
    assert vocabulary.mend("rains") is None  # "rain": too short to tell from "train"
    assert mend("not L'Oreal", vocabulary) == ("not L'Oreal", {})  # never "L'real"


def test_something_to_take_a_kind_off_is_a_remover() -> None:
    """The product removes what the message names, where the catalog has removers."""
    titles = [f"Waterproof Mascara, {n} oz" for n in range(4)] + [
        f"Eye Makeup Remover, {n} oz" for n in range(4)
    ]
    titles += [f"Shine Lip Gloss, {n} oz" for n in range(12)]
    vocabulary = Vocabulary.from_products(
        [Product(item_id=f"p{n}", title=t) for n, t in enumerate(titles)]
    )
    reading = read_message("something to take my waterproof mascara off", vocabulary)
    assert reading.product_type == "remover"
    assert "mascara" in reading.intent.query
    assert read_message("a waterproof mascara", vocabulary).product_type == "waterproof mascara"
