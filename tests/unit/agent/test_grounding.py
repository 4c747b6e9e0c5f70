from __future__ import annotations

import json

import pytest

from agent.grounding import GroundingChecker
from catalog.dataset import Dataset


@pytest.fixture(scope="module")
def checker(demo_dataset: Dataset) -> GroundingChecker:
    return GroundingChecker(demo_dataset.products)


def tents(dataset: Dataset) -> list:
    return [p for p in dataset.products if p.attributes.get("type") == "tent"]


def test_allowed_titles_prices_and_brands_pass(checker, demo_dataset) -> None:
    a, b = tents(demo_dataset)[:2]
    text = f"I like {a.title} at ${a.price:.2f}. {b.brand} makes #2, for ${b.price:.2f}."
    assert checker.check(text, [a, b], listed=2) == [] or b.brand == a.brand


def test_unknown_product_wrong_price_and_bad_reference(checker, demo_dataset) -> None:
    a, other = tents(demo_dataset)[0], tents(demo_dataset)[5]
    found = checker.check(f"Try {other.title}.", [a], listed=1)
    assert [v.kind for v in found] == ["unknown_product"]
    found = checker.check(f"{a.title} costs ${a.price + 10:.2f}.", [a], listed=1)
    assert [v.kind for v in found] == ["wrong_price"]
    assert [v.kind for v in checker.check("See #4.", [a], listed=3)] == ["bad_reference"]


def test_a_brand_of_no_returned_product_is_flagged(checker, demo_dataset) -> None:
    a = tents(demo_dataset)[0]
    stranger = next(
        p for p in demo_dataset.products if p.brand != a.brand and p.category == "Kitchen"
    )
    found = checker.check(f"You could also look at {stranger.brand}.", [a], listed=1)
    assert found and found[0].kind == "unknown_product"


def test_repair_drops_only_the_bad_sentence(checker, demo_dataset) -> None:
    a, other = tents(demo_dataset)[0], tents(demo_dataset)[5]
    text = f"Great picks for camping! Also consider {other.title}."
    kept, removed = checker.repair(text, [a], listed=1)
    assert kept == "Great picks for camping!"
    assert removed[0].kind == "unknown_product"


def test_agent_repairs_or_replaces_an_ungrounded_answer(make_agent, demo_dataset) -> None:
    stranger = next(p for p in demo_dataset.products if p.category == "Kitchen")
    intent = json.dumps({"action": "search", "query": "tent"})
    agent = make_agent([intent, f"Enjoy these tents! {stranger.title} is $1.00.", intent, "$3"])
    session = agent.new_session()
    repaired = agent.turn(session, "tents")
    assert repaired.trace.grounding_action == "repaired"
    assert repaired.answer.startswith("Enjoy these tents!")
    assert stranger.title not in repaired.answer
    replaced = agent.turn(session, "more tents")
    assert replaced.trace.grounding_action == "replaced"
    assert replaced.answer.startswith("Here are 3 suggestions")
    for result in (repaired, replaced):
        shown = [agent.product(s.item_id) for s in result.suggestions]
        history = [agent.product(i) for i in session.history]
        checker = GroundingChecker(demo_dataset.products)
        assert checker.check(result.answer, shown + history, limits=[]) == []


def test_attributes_must_belong_to_the_named_product(checker, demo_dataset) -> None:
    a = tents(demo_dataset)[0]
    other_color = next(c for c in ("red", "teal", "plum", "navy") if c != a.attributes["color"])
    own = f"{a.title} comes in {a.attributes['color']}."
    assert checker.check(own, [a]) == []
    found = checker.check(f"{a.brand} {a.attributes['type']} comes in {other_color}.", [a])
    assert [v.kind for v in found] == ["wrong_attribute"]


def test_popularity_claims_are_refused(checker, demo_dataset) -> None:
    a = tents(demo_dataset)[0]
    found = checker.check("This is a best-selling tent.", [a])
    assert [v.kind for v in found] == ["unsupported_claim"]
