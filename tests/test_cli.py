"""The CLI as a user runs it: exit codes, --json contracts, clear errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def longtail(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "longtail", *args], capture_output=True, text=True, timeout=600
    )


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


def test_demo_prepares_the_store_once(isolated_home: Path) -> None:
    first = longtail("demo", "--json")
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert result["created"] and result["items"] >= 5000
    assert result["tail_interaction_share"] <= 0.40
    assert (isolated_home / "demo" / "items.jsonl").is_file()
    assert json.loads(longtail("demo", "--json").stdout)["created"] is False
