"""Shared by every suite: the real Amazon Office data beside the checkout, isolated homes, the
fixtures that both tests/unit and tests/integration use (defined in tests/support/), and the
check that keeps the split true: a unit test starts no service, an integration test names
the service it starts (its marker), so `-m llm` and friends still select whole suites."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.retrieval import encoder, small_demo  # noqa: F401
from tests.support.runtime import client, demo_dataset, item_ids, make_runtime, runtime  # noqa: F401
from tests.support.screens import live_server  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
AMAZON_OFFICE = REPO.parent / "shared" / "data" / "amazon-office-2014"
TESTS = Path(__file__).resolve().parent
# A real service (LLM, vLLM, Chroma server, browser, Redis/PostgreSQL/nginx) or a long run.
INTEGRATION_MARKERS = ("llm", "vllm", "chroma_server", "browser", "scaleout", "slow")


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse a test on the wrong side of the split, naming it and its markers."""
    wrong = []
    for item in items:
        suite = item.path.relative_to(TESTS).parts[0] if item.path.is_relative_to(TESTS) else ""
        markers = sorted({m.name for m in item.iter_markers()} & set(INTEGRATION_MARKERS))
        if suite == "unit" and markers:
            wrong.append(f"{item.nodeid}: a unit test marked {', '.join(markers)}")
        elif suite == "integration" and not markers:
            wrong.append(
                f"{item.nodeid}: an integration test without one of the markers "
                f"{', '.join(INTEGRATION_MARKERS)}"
            )
    if wrong:
        raise pytest.UsageError(
            "tests on the wrong side of tests/unit | tests/integration:\n" + "\n".join(wrong)
        )
