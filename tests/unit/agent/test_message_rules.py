from __future__ import annotations

import pytest

from agent.message_rules import read_message
from agent.vocabulary import Vocabulary
from catalog.dataset import Dataset


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
