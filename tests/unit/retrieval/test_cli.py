"""`longtail ingest` and `longtail search` as a user runs them: JSON contracts, filters,
and bad input as one line on stderr with exit status 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from catalog.dataset import Dataset
from catalog.generic import write_generic
from tests.unit.retrieval.conftest import catalog_of

Cli = tuple[dict[str, str], Path]


def longtail(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "longtail", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory, small_demo: tuple[Path, Dataset]) -> Cli:
    """A 40-product dataset on disk and an environment whose LONGTAIL_HOME is its own."""
    folder = tmp_path_factory.mktemp("cli-data")
    write_generic(catalog_of(small_demo[1].products[::7][:40]), folder)
    env = {**os.environ, "LONGTAIL_HOME": str(tmp_path_factory.mktemp("cli-home"))}
    env.pop("LONGTAIL_CONFIG", None)
    return env, folder


@pytest.fixture(scope="module")
def ingested(cli: Cli) -> Cli:
    env, folder = cli
    result = longtail(env, "ingest", "--data", str(folder), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["added"], report["updated"], report["deleted"], report["unchanged"]) == (
        40,
        0,
        0,
        0,
    )
    assert report["seconds"] > 0
    assert "item/s" in result.stderr  # the progress bar, with its rate
    return cli


def test_a_second_ingest_embeds_nothing(ingested: Cli) -> None:
    env, folder = ingested
    result = longtail(env, "ingest", "--data", str(folder), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["unchanged"], report["embedded"]) == (40, 0)


def test_search_json_applies_the_filters(ingested: Cli) -> None:
    env, folder = ingested
    result = longtail(
        env,
        "search",
        "waterproof hiking backpack",
        "--data",
        str(folder),
        "--max-price",
        "150",
        "--category",
        "outdoor & hiking",
        "--exclude-brand",
        "Northpeak",
        "--k",
        "5",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert 0 < len(rows) <= 5
    keys = {"item_id", "title", "score", "category", "brand", "price", "dense", "sparse"}
    for row in rows:
        assert keys <= set(row)
        assert row["category"] == "Outdoor & Hiking"
        assert row["price"] <= 150
        assert row["brand"] != "Northpeak"


def test_search_prints_a_table(ingested: Cli) -> None:
    env, folder = ingested
    result = longtail(env, "search", "coffee grinder", "--data", str(folder), "--k", "3")
    assert result.returncode == 0, result.stderr
    assert "coffee grinder" in result.stdout and "bm25" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["   "], "the query is empty"),
        (["x" * 600], "the limit is 512"),
        (["tent", "--min-price", "50", "--max-price", "10"], "price range is inverted"),
        (["tent", "--category", "Nowhere"], "no category 'Nowhere'"),
        (["tent", "--k", "0"], "k must be an integer"),
    ],
)
def test_bad_search_input_is_one_line_and_exit_2(
    ingested: Cli, args: list[str], message: str
) -> None:
    env, folder = ingested
    result = longtail(env, "search", *args, "--data", str(folder))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")


def test_searching_a_dataset_that_was_never_ingested(cli: Cli, tmp_path: Path) -> None:
    env, _ = cli
    result = longtail(env, "search", "tent", "--data", str(tmp_path))
    assert result.returncode == 2
    assert "run `longtail ingest --data" in result.stderr
