"""The week-by-week view in a real browser (Chromium, as the other browser tests launch it).

A small city is followed up for four weeks under a standing approval (`test_follow_up.
followed_city`), then ``entitle serve`` runs on its database and data folder; a campaign
manager opens the view from the campaigns page with the keyboard, reads the chart and table
(Dutch, then English), holds the last week's batch and releases it, and the page fits a phone of
390 px. The screenshot goes to ``tests/browser/artifacts/weeks.png`` (docs/img/weeks.png).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from test_desk_browser import ARGS, ARTIFACTS, CHROMIUM, _require_chromium, sign_in  # noqa: E402
from test_web_support import BENEFITS, CAPACITY, PASSWORD, SENDER, running_web  # noqa: E402

WEEKS = "/campaigns/garbage-bags/weeks"


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, followed_template: tuple[Path, str]
) -> Iterator[str]:
    _require_chromium()
    from test_follow_up import followed_copy

    from entitle.web.backend import Backend

    root = tmp_path_factory.mktemp("weeks-browser")
    ctx, campaigns = followed_copy(*followed_template, root)
    database = f"sqlite:///{root / 'followed' / 'entitle.db'}"
    backend = Backend(database)
    backend.add_user("campaign", PASSWORD, "campaign_manager")
    backend.close()
    env = {
        **os.environ,
        "ENTITLE_MAGDA_SENDER": SENDER,
        "ENTITLE_MAGDA_DEFAULT_CAPACITY": CAPACITY,
        "ENTITLE_CAMPAIGNS": str(campaigns),
        "ENTITLE_REGISTER_EXTRACT": str(root / "city" / "registry"),
        "ENTITLE_CAMPAIGN_OUTPUT": str(ctx.output_dir),
    }
    options = ["--database-url", database, "--registry", "http://127.0.0.1:9"]
    options += ["--benefits", str(BENEFITS), "--data-dir", str(ctx.state_dir)]
    with running_web(options, env, root / "web.log") as (url, _):
        yield url


@pytest.fixture(scope="module")
def browser(site: str) -> Iterator[Any]:
    """One Chromium for the module (a launch takes seconds); each test has its own context."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def test_the_week_by_week_view(browser: Any, site: str) -> None:
    context = browser.new_context(
        base_url=site, viewport={"width": 1280, "height": 1000}, locale="nl-BE"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "favicon" not in str(m.location)
            else None
        ),
    )
    sign_in(page, "campaign")
    link = page.locator(f"a[href='{WEEKS}']")
    link.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")  # keyboard only
    assert page.locator("h1").inner_text().startswith("Week per week: ")
    figure = page.locator("#chart-weeks")
    assert "Nieuw, gewijzigd en beëindigd per week" in figure.inner_text()
    svg = figure.locator("svg")
    assert svg.get_attribute("role") == "img"
    title = svg.locator("title").text_content() or ""
    assert "Week 5 (" in title and "nieuw" in title  # the figures for screen readers
    box = svg.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 200
    # readable without colour: every bar says its figure and its series in words
    bars = svg.locator("g.bar")
    assert bars.count() == 4 * 3  # the weeks after the baseline
    for i in range(bars.count()):
        words = (bars.nth(i).locator("text").text_content() or "").split(" ", 1)
        assert words[0].isdigit() and words[1] in ("nieuw", "gewijzigd", "beëindigd")
    fills = {bars.nth(i).locator("rect").get_attribute("fill") for i in range(3)}
    assert len(fills) == 3  # solid, hatched, outlined: told apart in black and white too
    assert page.locator("#weeks tbody tr").count() == 5
    assert "Mediaan" in page.locator("#delay").inner_text()
    page.screenshot(path=str(ARTIFACTS / "weeks.png"), full_page=True)
    # hold the last week's batch with the keyboard, then release it
    hold = page.locator("#week-5 button")
    assert hold.inner_text() == "Tegenhouden"
    hold.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "is tegengehouden" in page.locator("#notice").inner_text()
    assert page.locator("#week-5 .status-badge").inner_text() == "tegengehouden"
    with page.expect_navigation():
        page.locator("#week-5 button").click()
    assert page.locator("#week-5 .status-badge").inner_text() == "klaar om te versturen"
    with page.expect_navigation():
        page.locator("a[lang=en]").click()
    assert page.locator("h1").inner_text().startswith("Week by week: ")
    assert "New, changed and ended per week" in page.locator("#chart-weeks").inner_text()
    assert errors == []
    context.close()


@pytest.mark.parametrize("lang", ["nl-BE", "en-GB"])
def test_the_week_view_fits_a_phone_of_390_px(browser: Any, site: str, lang: str) -> None:
    context = browser.new_context(
        base_url=site, viewport={"width": 390, "height": 844}, locale=lang
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, "campaign")
    page.goto(WEEKS)
    assert page.locator("#chart-weeks svg").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url}: {width} px wide"
    box = page.locator("#chart-weeks svg").bounding_box()
    assert box is not None and box["width"] <= 390
    # readable on the phone: a week's heading at least 12 px high (8 px when drawn 720 wide)
    heading = page.locator("#chart-weeks svg g.week text").first.bounding_box()
    assert heading is not None and heading["height"] >= 12, heading
    context.close()
