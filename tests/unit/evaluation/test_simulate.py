"""Simulated shoppers: kinds come from catalog text, messages never leak the target's title
or brand, the served copy holds no target, and `eval-chat --simulate` keeps its JSON contract."""

from __future__ import annotations

import json
import re
import subprocess
import sys
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


def longtail(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "longtail", *args], capture_output=True, text=True, timeout=900
    )


@pytest.mark.slow
def test_simulate_json_contract(tmp_path: Path, isolated_home: Path) -> None:
    data = tmp_path / "shop"
    write_demo(data, DemoConfig(items=300, users=100))
    first = longtail("eval-chat", "--simulate", "6", "--data", str(data), "--no-llm", "--json")
    assert first.returncode == 2 and "Traceback" not in first.stderr
    heldout = isolated_home / "simulate" / "shop-heldout"
    assert f"longtail ingest --data {heldout}" in " ".join(first.stderr.split())
    assert longtail("ingest", "--data", str(heldout)).returncode == 0
    trained = longtail("train", "--data", str(heldout), "--models", "hybrid", "--max-epochs", "2")
    assert trained.returncode == 0, trained.stderr
    run = longtail("eval-chat", "--simulate", "6", "--data", str(data), "--no-llm", "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["shoppers"] == 6 and report["llm"] == "none" and report["protocol"] == "loo"
    conditions = report["conditions"]
    assert set(conditions) == {"history_and_message", "message_only", "history_only"}
    for result in conditions.values():
        assert {"hit@3", "hit@10", "tail_hit@3", "tail_hit@10", "latency_p50_s"} <= set(result)
        assert 0 <= result["hit@3"] <= result["hit@10"] <= 1 and result["shoppers"] == 6
    assert conditions["history_and_message"]["reduced_mode_turns"] == 6
    assert set(report["references"]) == {"ranker_history_and_message", "ranker_message_only"}
    assert set(report["hit@10_ratio"]) == {"vs_message_only", "vs_history_only"}
    assert all(e["message"].startswith("I'm looking for ") for e in report["examples"])
