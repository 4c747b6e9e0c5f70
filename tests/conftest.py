"""Shared fixtures: the real Amazon Office data beside the checkout, and isolated homes."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
AMAZON_OFFICE = REPO.parent / "shared" / "data" / "amazon-office-2014"


@pytest.fixture
def amazon_office() -> Path:
    if not AMAZON_OFFICE.is_dir():
        pytest.skip(f"the Amazon Office data is not at {AMAZON_OFFICE}")
    return AMAZON_OFFICE


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test gets its own LONGTAIL_HOME, so no test reads a developer's stores."""
    home = tmp_path_factory.mktemp("longtail-home")
    monkeypatch.setenv("LONGTAIL_HOME", str(home))
    monkeypatch.delenv("LONGTAIL_CONFIG", raising=False)
    return home
