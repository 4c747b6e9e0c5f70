"""Simulated shoppers: kinds come from catalog text, messages never leak the target's title
or brand, the served copy holds no target. The `eval-chat --simulate` JSON contract (runs of
the CLI): tests/integration/evaluation/test_simulate_command.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from catalog.amazon import load_amazon
from catalog.dataset import Dataset
from catalog.demo import DemoConfig, write_demo
from catalog.generic import load_generic
from catalog.models import Product
from evaluation.kinds import path_leaf, product_kinds
from evaluation.simulate import (
    TEMPLATE_WORDS,
    SimulationError,
    check_heldout,
    draw_shoppers,
    heldout_dataset,
)
from evaluation.split import leave_last_out
from tests.conftest import AMAZON_OFFICE

AMAZON_BEAUTY = AMAZON_OFFICE.parent / "amazon-beauty-2014"


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9'&\-]+", text.lower()))


def test_kind_is_the_path_leaf_or_the_shared_ending_of_the_text() -> None:
    assert path_leaf("Beauty > Makeup > Eyes > Mascara") == "Mascara"
    assert path_leaf("""Beauty > Fragrance', "Women's", 'Eau de Parfum""") == "Eau de Parfum"
    assert path_leaf("Office category 8") == ""
    colors = ["Blue", "Black", "Red", "Green", "Violet"]
    pens = [
        Product(item_id=f"p{i}", title=f"Pilot Pen, {c} Rollerball Pens Pilot", brand="Pilot")
        for i, c in enumerate(colors)
    ]
    printers = [
        Product(item_id=f"q{i}", title=f"HP LaserJet {i} Printer Laser Printers HP", brand="HP")
        for i in range(5)
    ]
    unbranded = Product(item_id="u", title="Zebra Z-Grip Rollerball Pens Zebra Pen Corp")
    kinds = product_kinds([*pens, *printers, unbranded])
    assert kinds["p0"] == "Rollerball Pens"
    assert kinds["q0"] == "Laser Printers"  # not "Printer Laser Printers": a title word
    assert kinds["u"] == "Rollerball Pens"  # the unknown brand after the kind is skipped
    stated = Product(item_id="d", title="Summitry Tent", attributes={"type": "tent"})
    assert product_kinds([stated])["d"] == "tent"


def real(name: str) -> Dataset:
    folder = AMAZON_OFFICE if name == "office" else AMAZON_BEAUTY
    if not folder.is_dir():
        pytest.skip(f"the {name} data is not at {folder}")
    return load_amazon(folder) if name == "office" else load_generic(folder)


@pytest.mark.parametrize("name", ["office", "beauty"])
def test_message_names_the_kind_and_nothing_of_title_or_brand(name: str) -> None:
    dataset = real(name)
    split = leave_last_out(dataset)
    shoppers, _ = draw_shoppers(dataset, split, 300, seed=1)
    assert len(shoppers) == 300
    products = {p.item_id: p for p in dataset.products}
    for s in shoppers:
        said, kind = words(s.message), words(s.kind)
        assert said - TEMPLATE_WORDS <= kind, s.message
        target = products[s.target]
        assert not (said & (words(target.brand) - kind)), (s.message, target.brand)
        assert not (said & (words(target.title) - kind - TEMPLATE_WORDS)), s.message
        query = next(q for q in split.test if dataset.user_ids[q.user] == s.user_id)
        assert s.history == tuple(dataset.item_ids[i] for i in query.history)


def test_heldout_copy_drops_exactly_the_test_targets(tmp_path: Path) -> None:
    dataset = write_demo(tmp_path, DemoConfig(items=300, users=100))
    split = leave_last_out(dataset)
    held = heldout_dataset(dataset, split)
    assert held.n_interactions == dataset.n_interactions - len(split.test)
    sequences = held.sequences()
    for query in split.test:
        assert list(sequences[query.user]) == list(query.history)
    shoppers, _ = draw_shoppers(dataset, split, 10, seed=0)
    check_heldout(held, dataset, shoppers)
    with pytest.raises(SimulationError, match="held-out copy"):
        check_heldout(dataset, dataset, shoppers)  # the full data holds the targets
