"""The campaign dashboard in a real browser (Chromium, as the desk's browser tests launch it).

A garbage-bag campaign is run on a small synthetic city into a SQLite database (facts from the
city's registry view, reach against its ground truth), then ``entitle serve`` runs on that
database in a subprocess; a campaign manager signs in with the keyboard, opens the run's
dashboard, and a screenshot goes to ``tests/browser/artifacts/dashboard.png``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from test_desk_browser import ARGS, ARTIFACTS, CHROMIUM, _require_chromium, sign_in  # noqa: E402
from test_registry_server import running_server  # noqa: E402
from test_web_support import (  # noqa: E402
    BENEFITS,
    CAPACITY,
    PASSWORD,
    SENDER,
    SIMULATOR,
    running_web,
)

REPO = TESTS.parent


@dataclass
class Dashboard:
    url: str
    run_id: int
    eligible: int


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    _require_chromium()
    from test_campaign_review import AS_OF

    from entitle.decide.campaign import CampaignContext, run_campaign
    from entitle.decide.campaign_def import find_campaign
    from entitle.decide.campaign_sources import TableSource
    from entitle.registry.population import load_population
    from entitle.registry.reach import GroundTruth
    from entitle.registry.synth import write_city
    from entitle.store.db import make_engine, session_factory
    from entitle.web.backend import Backend

    folder = tmp_path_factory.mktemp("campaign-browser")
    city = folder / "city"
    write_city(2000, 7, city)
    database = f"sqlite:///{folder / 'entitle.db'}"
    backend = Backend(database)  # creates the schema
    backend.add_user("campaign", PASSWORD, "campaign_manager")
    backend.close()
    persons, households = load_population(city, "registry", as_of=AS_OF)
    engine = make_engine(database)
    ctx = CampaignContext(
        factory=session_factory(engine),
        register=city / "registry",
        state_dir=folder / "state",
        output_dir=folder / "out",
        local=str(city / "local"),
        source=TableSource(persons, households),
        reach=GroundTruth(city),
    )
    bags = find_campaign("garbage-bags", REPO / "campaigns" / "ghent", BENEFITS)
    # last year's run, approved and issued: letters to chart and a year to compare with
    from entitle.decide.campaign import approve_run, issue_run

    before = run_campaign(ctx, bags, AS_OF.replace(year=AS_OF.year - 1), chunk_size=500)
    with ctx.factory() as session:
        approve_run(session, bags, before.id, actor="campaign")
        session.commit()
    issue_run(ctx, bags, before.id, actor="campaign")
    run = run_campaign(ctx, bags, AS_OF, chunk_size=500)
    engine.dispose()
    env = {
        **os.environ,
        "ENTITLE_MAGDA_SENDER": SENDER,
        "ENTITLE_MAGDA_DEFAULT_CAPACITY": CAPACITY,
        "ENTITLE_CAMPAIGNS": str(REPO / "campaigns" / "ghent"),
        "ENTITLE_REGISTER_EXTRACT": str(city / "registry"),
        "ENTITLE_CAMPAIGN_OUTPUT": str(folder / "out"),
    }
    # the registry simulator on the city: the what-if decides through the gateway
    config = folder / "simulator.yaml"
    config.write_text(SIMULATOR, encoding="utf-8")
    with running_server(city, folder / "simulator.log", "--config", str(config)) as registry:
        options = ["--database-url", database, "--registry", registry.url]
        options += ["--benefits", str(BENEFITS), "--data-dir", str(folder / "state")]
        options += ["--local", str(city / "local")]
        with running_web(options, env, folder / "web.log") as (url, _):
            yield Dashboard(url, run.id, int((run.summary or {})["outcomes"]["eligible"]))


@pytest.fixture
def page(dashboard: Dashboard) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = chromium.new_context(
            base_url=dashboard.url, viewport={"width": 1280, "height": 1000}, locale="nl-BE"
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            chromium.close()


def test_the_dashboard_of_a_run(page: Any, dashboard: Dashboard) -> None:
    errors: list[str] = []

    def console(message: Any) -> None:
        if message.type == "error" and "favicon.ico" not in str(message.location):
            errors.append(message.text)  # e.g. a script or style refused by the CSP

    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "response",
        lambda r: errors.append(r.url) if r.status >= 400 and "favicon" not in r.url else None,
    )
    sign_in(page, "campaign")
    assert page.url.endswith("/campaigns")  # a campaign manager lands on the campaigns
    assert page.locator("h1").inner_text() == "Campagnes"
    # the runs table fits: the approvals column is not clipped at 1280 px
    wrap = page.locator("#runs-garbage-bags").locator("xpath=..")
    widths = wrap.evaluate("w => [w.scrollWidth, w.clientWidth]")
    assert widths[0] <= widths[1], widths
    # charts a manager reads at a glance: SVG with a text alternative, values written out
    for key, words in (
        ("garbage-bags-issued", "Bonnen verstuurd per week"),
        ("garbage-bags-used", "Bonnen gebruikt per week"),
        ("garbage-bags-reach", "Met recht: dit jaar tegenover het vorige"),
    ):
        figure = page.locator(f"#chart-{key}")
        assert figure.is_visible() and words in figure.inner_text()
        svg = figure.locator("svg")
        assert svg.get_attribute("role") == "img"
        title = svg.locator("title").text_content() or ""
        assert words in title and ":" in title  # the figures for screen readers
        box = svg.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 30
        # readable without colour: each bar has its value in words beside it
        bars = svg.locator("g.bar")
        assert bars.count() >= 1
        for i in range(bars.count()):
            assert (bars.nth(i).locator("text").nth(1).text_content() or "").strip()
    reach = page.locator("#chart-garbage-bags-reach g.bar")
    assert reach.count() == 2 and "met recht" in (reach.nth(1).text_content() or "")
    assert page.locator("[id^='chart-garbage-bags-cost']").count() >= 1  # cost per band
    page.screenshot(path=str(ARTIFACTS / "campaigns.png"), full_page=True)
    link = page.locator(f"a[href='/campaigns/runs/{dashboard.run_id}']")
    link.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")  # keyboard only
    assert page.locator("h1").inner_text().endswith(f"run {dashboard.run_id}")
    assert page.locator("#run-status").inner_text() == "ontwerp: wacht op nazicht"
    charts = page.locator("svg.bars")
    assert charts.count() >= 4 and charts.first.is_visible()
    box = charts.first.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 60  # drawn, not collapsed
    eligible = page.locator("tr.outcome-row-eligible td").inner_text()
    assert eligible.replace(".", "") == str(dashboard.eligible)
    assert "Bereik tegenover de werkelijkheid" in page.locator("#reach").inner_text()
    page.locator("#approve-button").focus()  # the review is reachable with the keyboard
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "reject-button"
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    assert errors == []


def test_the_what_if_says_it_is_working(page: Any, dashboard: Dashboard) -> None:
    sign_in(page, "campaign")
    page.goto("/campaigns/whatif?campaign=garbage-bags")
    # keep the page while its answer would be on its way: stop the post after the page's own
    # handler (on the document) ran, as a slow server would
    page.evaluate("window.addEventListener('submit', (e) => e.preventDefault())")
    page.locator("#whatif-form input[name^='p_']").first.fill("50")
    page.locator("#whatif-form button[type=submit]").click()
    status = page.locator("#whatif-form-busy")
    status.wait_for()
    assert status.get_attribute("role") == "status"
    assert "De berekening loopt" in status.inner_text() and "Verstreken: 0 s" in status.inner_text()
    assert page.locator("#whatif-form").get_attribute("aria-busy") == "true"
    page.wait_for_timeout(1500)
    assert "Verstreken: 0 s" not in status.inner_text()  # it counts the seconds


@pytest.mark.parametrize(
    ("lang", "width", "words"),
    [
        ("nl", 1280, ("Voortgang", "Deel 1 van", "Resultaat")),
        ("en", 390, ("Progress", "Part 1 of", "Result")),
    ],
)
def test_the_what_if_shows_its_progress_then_its_result(
    page: Any, dashboard: Dashboard, lang: str, width: int, words: tuple[str, str, str]
) -> None:
    """The what-if's answer is streamed: a progress line per part of the target, then the
    result on the same page, in Dutch and English, on a desktop and a phone."""
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "campaign")
    if lang == "en":
        with page.expect_navigation():
            page.locator("a[hreflang=en]").click()
    page.goto("/campaigns/whatif?campaign=garbage-bags")
    page.locator("#p-amount_by_size").fill("{1: 50, 2: 70, 3: 90, 4: 110, 5: 110, 6: 130}")
    with page.expect_navigation():
        page.locator("#whatif-form button[type=submit]").click()
    # the whole target is decided twice: on a loaded machine that takes a while
    page.locator("#result, #whatif-error").first.wait_for(timeout=180_000)
    assert page.locator("#whatif-error").count() == 0, page.locator("#whatif-error").inner_text()
    progress = page.locator("#whatif-progress")
    assert words[0] in progress.locator("h2").inner_text()
    steps = page.locator("#whatif-steps li")
    assert steps.count() >= 1 and steps.first.inner_text().startswith(words[1])
    assert page.locator("#result-title").inner_text() == words[2]
    page.screenshot(path=str(ARTIFACTS / f"whatif-{lang}-{width}.png"), full_page=True)
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
        " > 390).slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' '"
        " + Math.round(e.getBoundingClientRect().right))"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= width, wide
