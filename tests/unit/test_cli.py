"""The CLI as a user runs it: exit codes, --json contracts, clear errors without tracebacks.
The demo end to end (it serves): tests/integration/test_demo_command.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import longtail


def test_help_and_version() -> None:
    assert longtail("--help").returncode == 0
    result = longtail("--version")
    assert result.returncode == 0 and result.stdout.startswith("longtail ")


def test_stats_json_on_office(amazon_office: Path) -> None:
    result = longtail("data", "stats", "--data", str(amazon_office), "--json")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert (stats["users"], stats["items"], stats["interactions"]) == (4905, 2420, 53258)
    assert stats["tail_interaction_share"] == pytest.approx(0.396, abs=0.001)


def test_convert_then_stats_report_the_same(amazon_office: Path, tmp_path: Path) -> None:
    out = tmp_path / "office"
    converted = longtail(
        "data", "convert", "--from", "amazon", str(amazon_office), "--out", str(out)
    )
    assert converted.returncode == 0, converted.stderr
    stats = json.loads(longtail("data", "stats", "--data", str(out), "--json").stdout)
    assert (stats["users"], stats["items"], stats["interactions"]) == (4905, 2420, 53258)
    assert stats["tail_interaction_share"] == pytest.approx(0.396, abs=0.001)


def test_bad_file_exits_2_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "items.jsonl").write_text('{"item_id": "a", "title": "A"}\n')
    (tmp_path / "interactions.csv").write_text("user_id,item_id,timestamp\nu1,b,1\n")
    result = longtail("data", "stats", "--data", str(tmp_path))
    assert result.returncode == 2
    assert "interactions.csv:2: unknown item_id 'b'" in result.stderr
    assert "Traceback" not in result.stderr
    skipped = longtail("data", "stats", "--data", str(tmp_path), "--skip-bad", "--json")
    assert skipped.returncode == 0
    assert json.loads(skipped.stdout)["skipped_rows"] == 1
    assert "skipped 1 bad row" in skipped.stderr
