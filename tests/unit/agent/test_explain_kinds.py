"""An explanation calls an item "a <kind>" only where its text uses the kind as what it is."""

from __future__ import annotations

from agent.explain import matched_constraints
from agent.session import Constraints
from agent.vocabulary import Vocabulary
from catalog.models import Product

LOTION = Product(
    item_id="L1",
    title="Dry Skin Lotion, 8 oz",
    category="Beauty > Skin Care > Body > Lotions",
    brand="Acme",
)
SHAMPOO = Product(
    item_id="S1",
    title="Moisture Shampoo for Dry Hair, 12 oz",
    category="Beauty > Hair Care > Shampoos",
    brand="Acme",
)


def test_an_adjective_kind_is_quoted_not_called_what_the_item_is() -> None:
    vocabulary = Vocabulary.from_products([LOTION, SHAMPOO])
    assert not vocabulary.names_as_kind(LOTION, "dry")
    assert vocabulary.names_as_kind(SHAMPOO, "shampoo")  # ends the title's first segment
    assert vocabulary.names_as_kind(LOTION, "lotion")  # and the category's last level
    dry = matched_constraints(LOTION, Constraints(query="dry", product_type="dry"), vocabulary)
    assert dry == ['has "dry" in its listing']
    shampoo = Constraints(query="shampoo", product_type="shampoo")
    assert matched_constraints(SHAMPOO, shampoo, vocabulary) == ["is a shampoo"]
