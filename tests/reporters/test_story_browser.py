"""The HTML story in a real browser (Debian's chromium, driven by Playwright): the diagrams are
drawn, fit the page, and nothing is fetched, blocked or logged.

Chromium is a system package (``apt-get install chromium``); Playwright uses it by path and
downloads no browser. Without it this test is skipped, saying so, except where
``LOTFLOW_REQUIRE_BROWSER=1`` (``.ci/run`` sets it after installing chromium): there a missing
browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from lotflow.reporters.sequence import Arrow, build
from lotflow.reporters.story import StoryReporter
from tests.reporters.stream import FIRST, HAPPY, OUTAGE, SECOND, feed, finished

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [  # headless as root in a closed network: no sandbox, no background calls home
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_page() -> Any:
    missing = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "the playwright package is not installed (pip install -e '.[test]')"
    if missing is None and CHROMIUM is None:
        missing = "Debian's chromium is not installed (apt-get install chromium)"
    if missing is not None:
        if os.environ.get("LOTFLOW_REQUIRE_BROWSER") == "1":
            pytest.fail(f"LOTFLOW_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser.new_page(viewport={"width": 1100, "height": 800})
        finally:
            browser.close()


def test_the_story_page_draws_every_diagram_within_the_page_and_fetches_nothing(
    tmp_path: Path, browser_page: Any
) -> None:
    feed(StoryReporter(tmp_path))
    page_file = tmp_path / "story.html"
    console: list[str] = []
    requests: list[str] = []
    browser_page.on("console", lambda message: console.append(message.text))
    browser_page.on("request", lambda request: requests.append(request.url))
    browser_page.goto(page_file.as_uri())

    assert requests == [page_file.as_uri()]  # the page only: no font, script or image
    assert console == []  # no CSP violation, no error
    diagrams = browser_page.locator("figure.diagram svg")
    assert diagrams.count() == 2
    page_width = browser_page.evaluate("document.documentElement.clientWidth")
    scenarios = [
        finished(HAPPY, "02", False, FIRST),
        finished(OUTAGE, "07", True, SECOND),
    ]
    for index, scenario in enumerate(scenarios):
        svg = diagrams.nth(index)
        box = svg.bounding_box()
        assert box is not None
        assert box["width"] > 300
        assert box["height"] > 200
        assert box["x"] + box["width"] <= page_width  # scaled down to fit, never cut off
        model = build(scenario)
        arrows = [i for block in model.blocks for i in block.items if isinstance(i, Arrow)]
        assert svg.locator("line.arrow").count() == len(arrows)
        assert svg.locator("line.arrow.lost").count() == sum(a.lost for a in arrows)
        labels = svg.locator("text").all_text_contents()
        assert labels[:3] == ["Buyer operator", "Buyer Portal", "Producer Portal"]
        for arrow in arrows:
            assert arrow.label in labels
    shaded = diagrams.nth(0).locator("rect[fill='rgba(207, 34, 46, 0.12)']")
    assert shaded.count() == 1  # the failed step of the first scenario
    assert diagrams.nth(1).locator("rect[fill='rgba(207, 34, 46, 0.12)']").count() == 0

    source = browser_page.locator("details pre.mermaid").first
    assert not source.is_visible()  # folded under the picture
    browser_page.locator("details summary").first.click()
    assert source.is_visible()
    assert source.inner_text().startswith("sequenceDiagram")
    browser_page.screenshot(path=str(tmp_path / "story.png"), full_page=True)


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 900)])
def test_the_story_page_fits_a_phone_and_a_desktop_with_its_summary_on_the_first_screen(
    tmp_path: Path, browser_page: Any, width: int, height: int
) -> None:
    feed(StoryReporter(tmp_path))
    browser_page.set_viewport_size({"width": width, "height": height})
    browser_page.goto((tmp_path / "story.html").as_uri())

    overflow = browser_page.evaluate(
        "document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
    )
    assert overflow <= 0  # nothing makes the page scroll sideways
    summary = browser_page.locator("table.scenarios")
    assert summary.is_visible()
    box = summary.bounding_box()
    assert box is not None
    assert box["y"] < height  # on the first screen, before any scenario
    links = summary.locator("a")
    assert links.count() == 2
    links.nth(1).click()  # in-page links work without script
    section = browser_page.locator("section#s-07-outage")
    top = section.bounding_box()
    assert top is not None
    assert abs(top["y"]) < 5  # scrolled to the top of its section
    for table in browser_page.locator("table.states").all():
        frame = table.bounding_box()
        assert frame is not None
        assert frame["x"] >= 0
    assert browser_page.locator("dl.terms dt", has_text="price").is_visible()
    shot = tmp_path / f"story-{width}.png"
    browser_page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
