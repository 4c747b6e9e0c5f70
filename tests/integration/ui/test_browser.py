"""The screens in real headless Chromium (Debian's `chromium`, driven by Playwright through
its executable path; no browser is ever downloaded). Set LONGTAIL_SCREENSHOTS=DIR to keep
the screenshots (docs/screenshots/ holds the docs')."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.runtime import STAFF
from tests.support.screens import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if CHROMIUM is None:
        pytest.skip("no chromium executable (apt-get install chromium)")
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def _shot(page, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("LONGTAIL_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _wait_text(page, text: str, timeout_s: float = 30) -> None:
    """Wait until the page shows `text` (tables keep hidden copies, so no locator)."""
    deadline = time.monotonic() + timeout_s
    while text not in page.inner_text("body"):
        assert time.monotonic() < deadline, f"the page never showed {text!r}"
        time.sleep(0.2)


def _login(page, url: str) -> None:
    page.goto(url)
    page.locator("input[type=password]").wait_for(timeout=30_000)
    page.locator("input[type=text]").fill(STAFF.user)
    page.locator("input[type=password]").fill(STAFF.password)
    page.get_by_role("button", name="Login").click()


def test_shopper_sees_cards_and_a_click_records_a_view(
    live_server: LiveServer, page: Page, tmp_path: Path
) -> None:
    page.goto(f"{live_server.url}/chat/")
    page.locator("#lt-message textarea").fill("a hiking backpack under $60")
    page.locator("#lt-send").click()
    cards = page.locator(".lt-card")
    cards.first.wait_for(timeout=30_000)
    assert cards.count() >= 1
    first = cards.first.inner_text()
    assert "$" in first and "hiking backpack" in first.lower()
    assert page.locator(".lt-badge").count() >= 1  # the demo's backpacks include tail finds
    before = live_server.runtime.events.count()
    cards.first.click()
    page.locator("#lt-notice").get_by_text("tell me more about #1").wait_for(timeout=10_000)
    deadline = time.monotonic() + 5
    while live_server.runtime.events.count() == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert live_server.runtime.events.count() == before + 1
    _shot(page, "shopper-chat", tmp_path)
    page.locator("#lt-restart").click()
    page.locator(".lt-card").first.wait_for(state="detached", timeout=10_000)


def test_widget_layout_loads(live_server: LiveServer, page: Page, tmp_path: Path) -> None:
    page.set_viewport_size({"width": 420, "height": 640})
    page.goto(f"{live_server.url}/widget/")
    page.locator("#lt-message textarea").fill("a dog bed")
    page.locator("#lt-send").click()
    page.locator(".lt-card").first.wait_for(timeout=30_000)
    _shot(page, "widget", tmp_path)


def test_staff_logs_in_and_sees_a_trace(
    live_server: LiveServer, page: Page, tmp_path: Path
) -> None:
    _login(page, f"{live_server.url}/console/")  # the login form comes first
    page.locator("#lt-console-message textarea").fill("a desk lamp under $50")
    page.locator("#lt-ask").click()
    page.locator("#lt-answer").get_by_text("suggestions for").wait_for(timeout=30_000)
    _wait_text(page, "rank_candidates")
    text = page.inner_text("body")
    assert "popularity" in text and "semantic" in text  # candidates with per-signal scores
    assert "Latency breakdown" in text and "total" in text
    _shot(page, "support-console", tmp_path)


def test_a_prompt_edit_is_saved_and_visible_after_reload(
    live_server: LiveServer, page: Page, tmp_path: Path
) -> None:
    _login(page, f"{live_server.url}/studio/")
    editor = page.locator("#lt-editor .cm-content")
    editor.wait_for(timeout=30_000)
    page.get_by_text("based on v").wait_for(timeout=30_000)
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\nBe brief.")
    page.locator("#lt-note textarea").fill("browser edit")
    page.locator("#lt-save").click()  # through the CSRF check: the page's fetch sends the token
    page.get_by_text("not live: publish it").wait_for(timeout=30_000)
    saved = sorted(live_server.prompts.glob("*.jinja"), key=lambda p: p.stat().st_mtime)[-1]
    assert "Be brief." in saved.read_text() and "note: browser edit" in saved.read_text()
    name = saved.name.split(".v")[0]
    version = int(saved.name.split(".v")[1].split(".")[0])
    library = live_server.runtime.agent.prompts
    assert library.live_version(name) != version  # a draft
    page.locator("#lt-publish").click()  # publishes the newest version, the one just saved
    page.get_by_text("now live").wait_for(timeout=30_000)
    assert library.live_version(name) == version
    page.reload()
    _wait_text(page, "browser edit")
    page.get_by_role("tab", name="Audit log").click()
    _wait_text(page, "publish")
    assert STAFF.user in page.locator("#lt-audit").inner_text()
    _shot(page, "prompt-studio", tmp_path)


def test_staff_sees_per_variant_experiment_results(
    live_server: LiveServer, page: Page, tmp_path: Path
) -> None:
    from events.experiments import Experiment

    rt = live_server.runtime
    experiment = Experiment.model_validate(
        {
            "name": "tail-knob-browser",
            "variants": {"accuracy": {"tail_knob": 0.0}, "tail": {"tail_knob": 0.5}},
            "split": {"accuracy": 0.5, "tail": 0.5},
            "control": "accuracy",
        }
    )
    rt.experiments = [experiment]
    ids = rt.dataset.item_ids
    for n in range(60):  # what /v1/recommend logs, and shoppers clicking and buying
        unit = f"shopper-{n}"
        variant = experiment.assign(unit)
        start = n % 40 if variant == "accuracy" else len(ids) - n % 40 - 5
        shown = ids[start : start + 5]
        rt.events.record_exposures(experiment.name, variant, unit, shown)
        if n % 4:
            rt.events.record(f"s-{n}", shown[n % 5], "view", user_id=unit)
        if n % 3 == 0:
            rt.events.record(f"s-{n}", shown[n % 5], "purchase", user_id=unit)
    _login(page, f"{live_server.url}/console/")
    page.get_by_role("tab", name="Experiments").click()
    page.locator("#lt-experiments-refresh").click()
    _wait_text(page, "units per arm needed")
    text = page.inner_text("body")
    for shown_text in ("tail_exposure_share", "click_through", "conversion", "(control)"):
        assert shown_text in text
    _shot(page, "console-experiments", tmp_path)
