"""The ReChorus-style Amazon loader against the real Office data, and its conversion."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from catalog import DataError
from catalog.amazon import load_amazon
from catalog.generic import write_generic
from catalog.loading import detect_format, load_dataset


def test_office_stats_match_the_provenance_note(amazon_office: Path) -> None:
    dataset = load_amazon(amazon_office)
    stats = dataset.stats()
    assert (stats["users"], stats["items"], stats["interactions"]) == (4905, 2420, 53258)
    assert stats["tail_interaction_share"] == pytest.approx(0.396, abs=0.001)
    assert detect_format(amazon_office) == "amazon"


def test_office_keeps_split_order_so_test_items_come_last(amazon_office: Path) -> None:
    dataset = load_amazon(amazon_office)
    sequences = dataset.sequences()
    ids = dataset.item_ids
    rechorus = {p.item_id: p.attributes["rechorus_id"] for p in dataset.products}
    last = {}
    with (amazon_office / "test.csv").open() as handle:
        next(handle)
        for line in handle:
            user, item = line.split("\t")[:2]
            last[user] = int(item)
    for user_index, user_id in enumerate(dataset.user_ids[:500]):
        assert rechorus[ids[sequences[user_index][-1]]] == last[user_id]


def test_office_products_carry_text_and_brand(amazon_office: Path) -> None:
    dataset = load_amazon(amazon_office)
    first = dataset.products[0]
    assert first.item_id == "B0000AG93P"
    assert first.title.startswith("HP 78 Tri-Color")
    assert first.brand == "HP"
    assert sum(bool(p.brand) for p in dataset.products) > 1500


def test_round_trip_amazon_to_generic_keeps_stats(amazon_office: Path, tmp_path: Path) -> None:
    original = load_amazon(amazon_office)
    write_generic(original, tmp_path / "office")
    converted = load_dataset(tmp_path / "office")
    assert converted.fingerprint() == original.fingerprint()
    drop = {"dataset"}
    assert {k: v for k, v in converted.stats().items() if k not in drop} == {
        k: v for k, v in original.stats().items() if k not in drop
    }


def test_bad_amazon_row_names_file_and_line(amazon_office: Path, tmp_path: Path) -> None:
    copy = tmp_path / "office"
    shutil.copytree(amazon_office, copy)
    for path in copy.iterdir():
        path.chmod(0o644)
    with (copy / "dev.csv").open("a") as handle:
        handle.write("1\t99999\t1400000000\t[]\n")
    with pytest.raises(DataError) as caught:
        load_amazon(copy)
    assert caught.value.path.name == "dev.csv"
    assert caught.value.line == 4907
    assert "unknown item id '99999'" in str(caught.value)
    assert load_amazon(copy, skip_bad=True).skipped_rows == 1


def test_unrecognised_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a dataset folder"):
        detect_format(tmp_path)
