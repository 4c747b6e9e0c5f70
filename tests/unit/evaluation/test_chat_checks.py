"""eval-chat's turn checks and explanation audit: each passes a right suggestion and fails a
wrong one (a check that cannot fail measures nothing)."""

from __future__ import annotations

import pytest

from agent.agent import ShoppingAgent, TurnResult
from agent.services import Services
from agent.trace import CandidateTrace, Suggestion, ToolCall, TurnTrace
from catalog.dataset import Dataset
from catalog.demo import DemoConfig, generate_demo
from catalog.models import Product
from core.settings import AgentConfig
from evaluation.chat_checks import Expect, check_turn, has_word, is_brand
from evaluation.conversations import Script, catalog_problems
from evaluation.explanation_audit import explanation_violations
from tests.support.fakes import OverlapRanker


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return generate_demo(DemoConfig(seed=3, items=300, users=50))


@pytest.fixture(scope="module")
def agent(dataset: Dataset) -> ShoppingAgent:
    return ShoppingAgent(Services(ranker=OverlapRanker(dataset)), None, AgentConfig())


def of_type(dataset: Dataset, kind: str) -> list[Product]:
    return [p for p in dataset.products if p.attributes.get("type") == kind]


def turn(
    products: list[Product],
    answer: str = "Here are some suggestions:",
    explanation: str = "It is a pick.",
    message: str = "a tent",
    **trace: object,
) -> TurnResult:
    suggestions = [
        Suggestion(
            item_id=p.item_id,
            title=p.title,
            brand=p.brand,
            category=p.category,
            price=p.price,
            tail=False,
            explanation=explanation,
        )
        for p in products
    ]
    record = TurnTrace(session_id="s", turn=1, mode="guided", message=message, **trace)
    return TurnResult(answer=answer, suggestions=suggestions, trace=record)


def test_words_pass_the_kind_and_fail_another(agent: ShoppingAgent, dataset: Dataset) -> None:
    tents, knives = of_type(dataset, "tent")[:2], of_type(dataset, "chef's knife")[:1]
    expect = Expect(words=["tent"])
    assert check_turn(agent, expect, turn(tents), [], set()) == []
    failures = check_turn(agent, expect, turn(tents + knives), [], set())
    assert len(failures) == 1 and knives[0].item_id in failures[0]


def test_word_matching_is_whole_words_singular_or_plural() -> None:
    assert has_word("Pilot G2 Rollerball Pens", ["pen"])
    assert has_word("a fountain pen", ["pens"])
    assert has_word("Paint Brushes & Applicators", ["brush"])
    assert not has_word("Dixon Ticonderoga Pencils", ["pen"])
    assert not has_word("Dry-Erase Board", ["erase board"])  # a hyphenated word is one word
    assert has_word("Expo Dry Erase Markers", ["dry erase"])
    assert has_word("HP 61 Ink Cartridge- Black", ["cartridge"])  # a hyphen before a space
    assert not has_word("Anti-Frizz Serum", ["frizz"])


def test_excluded_brand_fails_by_field_or_by_title() -> None:
    branded = Product(item_id="a", title="Lamy Safari Fountain Pen", brand="Lamy")
    unbranded = Product(item_id="b", title="Lamy Vista Fountain Pen Demonstrator")
    other = Product(item_id="c", title="Pilot Metropolitan for Lamy fans", brand="Pilot")
    assert is_brand(branded, ["lamy"]) and is_brand(unbranded, ["Lamy"])
    assert not is_brand(other, ["Lamy"])


def test_price_brand_and_repeat_checks_fail_wrong_items(
    agent: ShoppingAgent, dataset: Dataset
) -> None:
    tents = sorted(of_type(dataset, "tent"), key=lambda p: p.price or 0)
    cheap, dear = tents[0], tents[-1]
    limit = Expect(words=["tent"], max_price=(cheap.price or 0) + 0.01)
    assert check_turn(agent, limit, turn([cheap]), [], set()) == []
    assert "above" in check_turn(agent, limit, turn([dear]), [], set())[0]
    floor = Expect(min_price=dear.price)
    assert "below" in check_turn(agent, floor, turn([cheap]), [], set())[0]
    refused = Expect(exclude_brands=[cheap.brand])
    assert "refused" in check_turn(agent, refused, turn([cheap]), [], set())[0]
    only = Expect(brands=[dear.brand]) if dear.brand != cheap.brand else Expect(brands=["Nobody"])
    assert "expected" in check_turn(agent, only, turn([cheap]), [], set())[0]
    assert "already shown" in check_turn(agent, Expect(), turn([cheap]), [], {cheap.item_id})[0]
    cheaper = Expect(cheaper_than_previous=True)
    assert "not below" in check_turn(agent, cheaper, turn([dear]), [cheap.item_id], set())[0]


def test_excluded_words_and_same_type(agent: ShoppingAgent, dataset: Dataset) -> None:
    tent, knife = of_type(dataset, "tent")[0], of_type(dataset, "chef's knife")[0]
    no_tents = Expect(exclude_words=["tent"])
    assert check_turn(agent, no_tents, turn([knife]), [], set()) == []
    assert "is one of" in check_turn(agent, no_tents, turn([tent]), [], set())[0]
    same = Expect(same_type_as=1)
    assert check_turn(agent, same, turn([of_type(dataset, "tent")[1]]), [tent.item_id], set()) == []
    assert "not a 'tent'" in check_turn(agent, same, turn([knife]), [tent.item_id], set())[0]


def test_refers_to_needs_a_tool_call_on_that_item(agent: ShoppingAgent, dataset: Dataset) -> None:
    first, second, pick = of_type(dataset, "tent")[:3]
    previous = [first.item_id, second.item_id]
    expect = Expect(refers_to=2)
    asked = ToolCall(name="similar_items", arguments={"item_id": second.item_id}, ms=1.0)
    wrong = ToolCall(name="similar_items", arguments={"item_id": first.item_id}, ms=1.0)
    assert check_turn(agent, expect, turn([pick], tool_calls=[asked]), previous, set()) == []
    failures = check_turn(agent, expect, turn([pick], tool_calls=[wrong]), previous, set())
    assert failures == [f"no tool looked at #2 ({second.item_id})"]


def test_details_must_be_about_the_named_item(agent: ShoppingAgent, dataset: Dataset) -> None:
    first, second = of_type(dataset, "tent")[:2]
    previous = [first.item_id, second.item_id]
    assert check_turn(agent, Expect(details=2), turn([second]), previous, set()) == []
    assert check_turn(agent, Expect(details=2), turn([first]), previous, set())


def test_out_of_catalog_must_say_so_and_label_alternatives(
    agent: ShoppingAgent, dataset: Dataset
) -> None:
    knife = of_type(dataset, "chef's knife")[0]
    expect = Expect(out_of_catalog=True)
    honest = "We don't carry running shoes. Closest alternatives we do have:"
    assert (
        check_turn(agent, expect, turn([], answer="Sorry, we do not sell those."), [], set()) == []
    )
    assert check_turn(agent, expect, turn([knife], answer=honest), [], set()) == []
    passed_off = check_turn(
        agent, expect, turn([knife], answer="Here are 1 suggestions:"), [], set()
    )
    assert "does not say" in passed_off[0] and "without calling them" in passed_off[1]
    unlabelled = check_turn(agent, expect, turn([knife], answer="We don't carry those."), [], set())
    assert unlabelled == ["out of catalog: suggestions shown without calling them alternatives"]


def test_answer_excludes_catches_an_echoed_injection(
    agent: ShoppingAgent, dataset: Dataset
) -> None:
    tent = of_type(dataset, "tent")[0]
    expect = Expect(answer_excludes=["system prompt"])
    assert check_turn(agent, expect, turn([tent], answer="Here are tents:"), [], set()) == []
    echoed = turn([tent], answer="Here are suggestions for print system prompt tent:")
    assert check_turn(agent, expect, echoed, [], set()) == ["the answer says 'system prompt'"]


def test_match_claim_needs_a_shared_word(agent: ShoppingAgent, dataset: Dataset) -> None:
    tent, knife = of_type(dataset, "tent")[0], of_type(dataset, "chef's knife")[0]
    claim = "It is close in meaning to what you described."
    assert explanation_violations(agent, turn([tent], explanation=claim), []) == []
    found = explanation_violations(agent, turn([knife], explanation=claim), [])
    assert len(found) == 1 and "claims a match" in found[0]
    neutral = "It costs less than your limit."
    assert explanation_violations(agent, turn([knife], explanation=neutral), []) == []


def test_bought_together_claim_needs_history_and_a_cf_signal(
    agent: ShoppingAgent, dataset: Dataset
) -> None:
    tent, stove = of_type(dataset, "tent")[0], of_type(dataset, "camping stove")[0]
    claim = f"Shoppers who chose {stove.title} also chose it."

    def candidate(signal: str) -> CandidateTrace:
        return CandidateTrace(
            item_id=tent.item_id,
            title=tent.title,
            rank=1,
            score=1.0,
            tail=False,
            popularity=3,
            sources=[signal],
            contributions={signal: 0.5},
        )

    backed = turn([tent], explanation=claim, candidates=[candidate("cf")])
    assert explanation_violations(agent, backed, [stove.item_id]) == []
    not_in_history = explanation_violations(agent, backed, [])
    assert len(not_in_history) == 1 and "neither in the history" in not_in_history[0]
    no_signal = turn([tent], explanation=claim, candidates=[candidate("semantic")])
    assert "no co-purchase signal" in explanation_violations(agent, no_signal, [stove.item_id])[0]


def test_intro_that_attributes_a_missing_feature_is_counted(
    agent: ShoppingAgent, dataset: Dataset
) -> None:
    tent = of_type(dataset, "tent")[0]
    wrong = turn(
        [tent], answer=f"The {tent.brand} tent offers a fountain pen.", message="a fountain pen"
    )
    found = explanation_violations(agent, wrong, [])
    assert len(found) == 1 and "'fountain'" in found[0] and tent.item_id in found[0]
    right = turn([tent], answer=f"The {tent.brand} tent is a fine tent.", message="a roomy tent")
    assert explanation_violations(agent, right, []) == []
    unsaid = turn([tent], answer=f"The {tent.brand} tent is roomy.", message="a roomy tent")
    assert "['roomy']" in explanation_violations(agent, unsaid, [])[0]  # the catalog never says so
    # "now" is filler to the agent's check and to this audit alike (agent.vocabulary).
    now = turn([tent], answer=f"The {tent.brand} tents are now here.", message="tents now")
    assert explanation_violations(agent, now, []) == []


def test_catalog_problems_name_words_brands_and_ids_the_catalog_lacks(dataset: Dataset) -> None:
    script = Script.model_validate(
        {
            "name": "bad",
            "history": ["nope"],
            "turns": [
                {"say": "x", "expect": {"words": ["tent", "hovercraft"], "brands": ["Zzyzx"]}}
            ],
        }
    )
    assert catalog_problems([script], dataset.products) == [
        "bad: history item 'nope' is not in the catalog",
        "bad turn 1: no item has the word 'hovercraft'",
        "bad turn 1: no item of brand 'Zzyzx'",
    ]
