"""The generic format: happy path, and a clear error naming file and line for each bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog import DataError
from catalog.generic import load_generic, write_generic

ITEMS = [
    {"item_id": "a", "title": "Red kettle", "category": "Kitchen", "brand": "Hearth", "price": 30},
    {"item_id": "b", "title": "Blue mug", "price": 8.5, "color": "blue"},
    {"item_id": "c", "title": "Green teapot", "description": "Holds 1L."},
]
INTERACTIONS = (
    "user_id,item_id,timestamp,event\n"
    "u1,a,100,view\n"
    "u1,b,100,purchase\n"
    "u2,c,2024-01-02T10:00:00,cart\n"
    "u1,c,50,view\n"
)


def write(folder: Path, items: list[dict] | str, interactions: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = items if isinstance(items, str) else "".join(json.dumps(i) + "\n" for i in items)
    (folder / "items.jsonl").write_text(text, encoding="utf-8")
    (folder / "interactions.csv").write_text(interactions, encoding="utf-8")
    return folder


def test_loads_products_and_orders_sequences_by_time_then_file_order(tmp_path: Path) -> None:
    dataset = load_generic(write(tmp_path, ITEMS, INTERACTIONS))
    assert dataset.n_items == 3 and dataset.n_users == 2 and dataset.n_interactions == 4
    assert dataset.products[1].attributes == {"color": "blue"}
    assert dataset.products[0].price == 30
    sequences = dataset.sequences()
    ids = dataset.item_ids
    # u1: c at t=50, then a and b tie at t=100 and keep their file order.
    assert [ids[i] for i in sequences[0]] == ["c", "a", "b"]
    assert [ids[i] for i in sequences[1]] == ["c"]


def test_round_trip_keeps_the_fingerprint(tmp_path: Path) -> None:
    original = load_generic(write(tmp_path / "in", ITEMS, INTERACTIONS))
    write_generic(original, tmp_path / "out")
    again = load_generic(tmp_path / "out")
    assert again.fingerprint() == original.fingerprint()


def test_event_defaults_to_purchase_when_the_column_is_absent(tmp_path: Path) -> None:
    dataset = load_generic(write(tmp_path, ITEMS, "user_id,item_id,timestamp\nu1,a,1\n"))
    assert dataset.stats()["events"] == {"view": 0, "cart": 0, "purchase": 1, "rating": 0}


@pytest.mark.parametrize(
    ("items", "interactions", "file", "line", "fragment"),
    [
        (ITEMS, "user_id,item_id\nu1,a\n", "interactions.csv", 1, "missing column(s) timestamp"),
        (
            ITEMS,
            "user_id,item_id,timestamp\nu1,a,1\nu1,zz,2\n",
            "interactions.csv",
            3,
            "unknown item_id 'zz'",
        ),
        (
            ITEMS,
            "user_id,item_id,timestamp\nu1,a,yesterday\n",
            "interactions.csv",
            2,
            "field 'timestamp'",
        ),
        (
            ITEMS,
            "user_id,item_id,timestamp\nu1,a,1,extra\n",
            "interactions.csv",
            2,
            "expected 3 fields, found 4",
        ),
        (
            ITEMS,
            "user_id,item_id,timestamp,event\nu1,a,1,like\n",
            "interactions.csv",
            2,
            "field 'event': 'like'",
        ),
        (
            [*ITEMS, {"item_id": "a", "title": "Again"}],
            "user_id,item_id,timestamp\n",
            "items.jsonl",
            4,
            "duplicate item_id 'a' (first on line 1)",
        ),
        (
            '{"item_id": "a", "title": "x"}\n{"item_id": "b", "title": \n',
            "user_id,item_id,timestamp\n",
            "items.jsonl",
            2,
            "not valid JSON",
        ),
        (
            '{"item_id": "a"}\n',
            "user_id,item_id,timestamp\n",
            "items.jsonl",
            1,
            "field 'title': Field required",
        ),
        (
            '{"item_id": "a", "title": "x", "price": -3}\n',
            "user_id,item_id,timestamp\n",
            "items.jsonl",
            1,
            "field 'price'",
        ),
        ('["a", "b"]\n', "user_id,item_id,timestamp\n", "items.jsonl", 1, "expected a JSON object"),
    ],
)
def test_bad_input_names_file_line_and_problem(
    tmp_path: Path, items: list[dict] | str, interactions: str, file: str, line: int, fragment: str
) -> None:
    write(tmp_path, items, interactions)
    with pytest.raises(DataError) as caught:
        load_generic(tmp_path)
    assert caught.value.path.name == file
    assert caught.value.line == line
    assert fragment in str(caught.value)
    assert f"{file}:{line}:" in str(caught.value)


def test_skip_bad_skips_and_counts_every_bad_row(tmp_path: Path) -> None:
    interactions = "user_id,item_id,timestamp\nu1,a,1\nu1,zz,2\nu2,b,soon\nu2,c,3\n"
    dataset = load_generic(write(tmp_path, ITEMS, interactions), skip_bad=True)
    assert dataset.n_interactions == 2
    assert dataset.skipped_rows == 2
    assert "interactions.csv:3: unknown item_id 'zz'" in dataset.skipped[0]
    assert "interactions.csv:4:" in dataset.skipped[1]


def test_missing_files_and_invalid_utf8_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"items\.jsonl: file not found"):
        load_generic(tmp_path)
    write(tmp_path, ITEMS, INTERACTIONS)
    (tmp_path / "items.jsonl").write_bytes(b'{"item_id": "a", "title": "\xff"}\n')
    with pytest.raises(DataError, match="not valid UTF-8"):
        load_generic(tmp_path)
