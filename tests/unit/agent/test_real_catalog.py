"""The agent on a catalog shaped like the shops that use it, not like the demo store: the
real Amazon Office data (coded categories, no prices, no attributes, titles that end with
leaf category and brand, the catalog's own also-bought lists), behind the word-overlap
ranker, with and without a scripted LLM."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from agent.agent import ShoppingAgent
from agent.explain import CLOSE, Evidence, explain
from agent.grounding import GroundingChecker
from agent.services import Services
from agent.session import Constraints
from agent.understand import mend
from agent.vocabulary import Vocabulary, tokens
from catalog.amazon import load_amazon
from catalog.dataset import Dataset
from catalog.generic import load_generic, write_generic
from core.items import ItemSummary
from core.settings import AgentConfig
from ranking.request import RankedItem
from tests.support.fakes import OverlapRanker, ScriptedChat

INTRO = "Here you go."


@pytest.fixture(scope="module")
def office(request: pytest.FixtureRequest) -> Dataset:
    from tests.conftest import AMAZON_OFFICE

    if not AMAZON_OFFICE.is_dir():
        pytest.skip(f"the Amazon Office data is not at {AMAZON_OFFICE}")
    return load_amazon(AMAZON_OFFICE)


@pytest.fixture(scope="module")
def vocabulary(office: Dataset) -> Vocabulary:
    return Vocabulary.from_products(office.products)


def make(office: Dataset, vocabulary: Vocabulary, script: list[str] | None = None):
    ranker = OverlapRanker(office)
    llm = ScriptedChat(script=list(script), calls=[]) if script is not None else None
    services = Services(ranker=ranker, vocabulary=vocabulary)
    return ShoppingAgent(services, llm, AgentConfig(k=3)), ranker


def words(agent: ShoppingAgent, result, *wanted: str) -> bool:
    titles = [agent.product(s.item_id).title.lower() for s in result.suggestions]
    return bool(titles) and all(any(w in t for w in wanted) for t in titles)


def test_the_vocabulary_comes_from_the_catalog(vocabulary: Vocabulary) -> None:
    assert not vocabulary.typed and vocabulary.coded_categories
    assert vocabulary.prompt_categories == ()  # codes are not offered to the LLM
    assert vocabulary.kind_in("a desk organizer") == "desk organizer"
    assert vocabulary.kind_in("I need a scientific calculator for high school") == (
        "scientific calculator"
    )
    assert vocabulary.kind_in("black gel pens") == "gel pen"
    assert mend("scientfic calculater", vocabulary)[1] == {
        "scientfic": "scientific",
        "calculater": "calculator",
    }
    assert mend("not that brand", vocabulary)[1] == {}  # conversation words stay


def test_a_first_message_reaches_the_ranker(office: Dataset, vocabulary: Vocabulary) -> None:
    agent, ranker = make(office, vocabulary)
    result = agent.turn(agent.new_session(), "a desk organizer")
    assert "desk organizer" in ranker.requests[0].message
    assert words(agent, result, "organizer")
    calculators = agent.turn(agent.new_session(), "I need a scientific calculator for high school")
    assert words(agent, calculators, "calculator")


def test_an_llm_category_guess_is_no_filter(office: Dataset, vocabulary: Vocabulary) -> None:
    reply = json.dumps(
        {"action": "search", "query": "fountain pen", "category": "Office category 0"}
    )
    agent, ranker = make(office, vocabulary, [reply, INTRO])
    result = agent.turn(agent.new_session(), "fountain pen, but not a Lamy")
    assert ranker.requests[-1].filters.categories == ()
    assert words(agent, result, "pen")
    assert not any("lamy" in agent.product(s.item_id).title.lower() for s in result.suggestions)


def test_an_indirect_need_searches_the_llms_product_kinds(
    office: Dataset, vocabulary: Vocabulary
) -> None:
    reply = json.dumps(
        {"action": "search", "query": "gift", "products": ["fountain pen", "notebook"]}
    )
    agent, ranker = make(office, vocabulary, [reply, INTRO])
    result = agent.turn(agent.new_session(), "a gift for a colleague who loves writing by hand")
    assert ranker.requests[-1].llm_texts == ("fountain pen", "notebook")
    assert result.trace.expansion == ["fountain pen", "notebook"]
    assert words(agent, result, "pen", "notebook")


def test_complements_are_bought_together_not_more_of_the_same(
    office: Dataset, vocabulary: Vocabulary
) -> None:
    agent, _ = make(office, vocabulary)
    session = agent.new_session()
    first = agent.turn(session, "a label maker")
    assert words(agent, first, "label")
    anchor = first.suggestions[0].item_id
    result = agent.turn(session, "what goes well with it?")
    assert result.trace.plan == "complement" and result.suggestions
    assert all(s.item_id in result.trace.bought_together for s in result.suggestions)
    maker = agent.product(anchor)
    assert all(not vocabulary.matches(agent.product(s.item_id), vocabulary.kind_of(maker))
               for s in result.suggestions)  # fmt: skip
    assert all(s.explanation.startswith("Bought together with the ") or "catalog lists" in
               s.explanation for s in result.suggestions)  # fmt: skip


def test_complements_that_say_the_purpose_come_before_a_shopper_count(
    office: Dataset, vocabulary: Vocabulary
) -> None:
    """ "what goes well with my label maker?": co-purchases whose titles say a word of the
    message or of the anchor's kind come first, whatever one or two shoppers add."""
    agent, _ = make(office, vocabulary)
    result = agent.turn(agent.new_session(), "what goes well with my label maker?")
    together = result.trace.bought_together
    assert result.trace.plan == "complement" and result.suggestions
    anchor = next(c.arguments["item_id"] for c in result.trace.tool_calls
                  if c.name == "bought_together")  # fmt: skip
    listed = set(office.relations.get("also_bought", {}).get(anchor, ()))
    logged = [i for i in together if i not in listed]  # after the catalog's own list
    says = [
        bool({"label", "labels", "maker"} & set(tokens(agent.product(i).title))) for i in logged
    ]
    assert any(says) and says == sorted(says, reverse=True)  # e.g. label pads before wrist rests


def test_the_shop_says_what_it_does_not_carry(office: Dataset, vocabulary: Vocabulary) -> None:
    agent, _ = make(office, vocabulary)
    result = agent.turn(agent.new_session(), "a coffee maker for the break room")
    assert result.trace.out_of_catalog and not result.suggestions
    assert "don't carry coffee maker" in result.answer


def test_grounding_catches_a_feature_the_product_lacks(
    office: Dataset, vocabulary: Vocabulary
) -> None:
    printer = next(p for p in office.products if "HL-1440" in p.title)
    checker = GroundingChecker(office.products, kinds=vocabulary.kinds)
    bad = checker.check(f"The {printer.title.split(',')[0]} offers a fountain pen.", [printer])
    assert [v.kind for v in bad] == ["wrong_attribute"] and bad[0].text == "fountain pen"
    assert checker.check(f"The {printer.title.split(',')[0]} is a laser printer.", [printer]) == []


def test_close_to_what_you_described_needs_the_calibrated_similarity(
    office: Dataset, vocabulary: Vocabulary
) -> None:
    pen = next(p for p in office.products if "Fountain Pen" in p.title)
    item = RankedItem(
        item=ItemSummary(item_id=pen.item_id, title=pen.title, brand=pen.brand),
        rank=1, score=1.0, tail=True, popularity=3, sources=("semantic",),
        contributions={"semantic": 1.0}, message_similarity=0.5,
    )  # fmt: skip
    evidence = Evidence(vocabulary=vocabulary, request="a gift", threshold=0.6)
    low = explain(item, pen, Constraints(), title_of=str, evidence=evidence)
    high = explain(
        replace(item, message_similarity=0.7), pen, Constraints(), title_of=str, evidence=evidence
    )
    assert CLOSE not in low and "only 3 shoppers have bought it so far" in low.lower()
    assert CLOSE in high


def test_the_converter_keeps_the_catalogs_also_bought_lists(
    office: Dataset, tmp_path: Path
) -> None:
    also = office.relations["also_bought"]
    assert len(also) > 1000 and all(office.has_item(i) for ids in also.values() for i in ids)
    write_generic(office, tmp_path)
    again = load_generic(tmp_path)
    assert again.relations == office.relations
    assert again.fingerprint() == office.fingerprint()
