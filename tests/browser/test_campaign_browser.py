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
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from test_desk_browser import (  # noqa: E402
    ARGS,
    ARTIFACTS,
    CHROMIUM,
    HERE,
    _require_chromium,
    assert_focus,
    check,
    sign_in,
)
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
    coupon: str  # a coupon of last year's issued run
    pupil: str  # a pupil eligible for the school tariff on the city's day (AS_OF)


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    _require_chromium()
    from test_campaign_review import AS_OF

    from entitle.decide.campaign import CampaignContext, run_campaign
    from entitle.decide.campaign.definition import find_campaign
    from entitle.decide.campaign.sources import TableSource
    from entitle.registry.population import load_population
    from entitle.registry.reach import GroundTruth
    from entitle.registry.synth import write_city
    from entitle.store.campaigns import letters_of_run
    from entitle.store.db import make_engine, session_factory
    from entitle.web.backend import Backend

    folder = tmp_path_factory.mktemp("campaign-browser")
    city = folder / "city"
    write_city(2000, 7, city)
    database = f"sqlite:///{folder / 'entitle.db'}"
    backend = Backend(database)  # creates the schema
    backend.add_user("campaign", PASSWORD, "campaign_manager")
    backend.add_user("desk", PASSWORD, "desk_officer")
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
        approve_run(session, bags, before.id, actor="campaign", today=before.as_of)
        session.commit()
    issue_run(replace(ctx, today=lambda: before.as_of), bags, before.id, actor="campaign")
    run = run_campaign(ctx, bags, AS_OF, chunk_size=500)
    with ctx.factory() as session:
        coupon = next(str(x.code) for x in letters_of_run(session, before.id, "coupon") if x.code)
    engine.dispose()
    pupil = _eligible_pupil(persons, households, AS_OF)
    env = {
        **os.environ,
        "ENTITLE_MAGDA_SENDER": SENDER,
        "ENTITLE_MAGDA_DEFAULT_CAPACITY": CAPACITY,
        "ENTITLE_CAMPAIGNS": str(REPO / "campaigns" / "ghent"),
        "ENTITLE_REGISTER_EXTRACT": str(city / "registry"),
        "ENTITLE_CAMPAIGN_OUTPUT": str(folder / "out"),
        # the server's clock runs from the city's day (clocked_app.py): the desk decides for the
        # school year the city's enrolments are for, whatever today's date
        "ENTITLE_TEST_CLOCK_START": f"{AS_OF.isoformat()}T10:00:00+01:00",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
    }
    # the registry simulator on the city: the what-if decides through the gateway
    config = folder / "simulator.yaml"
    config.write_text(SIMULATOR, encoding="utf-8")
    with running_server(city, folder / "simulator.log", "--config", str(config)) as registry:
        options = ["--database-url", database, "--registry", registry.url]
        options += ["--benefits", str(BENEFITS), "--data-dir", str(folder / "state")]
        options += ["--local", str(city / "local")]
        options += ["--app-factory", "clocked_app:app_from_env"]
        with running_web(options, env, folder / "web.log") as (url, _):
            eligible = int((run.summary or {})["outcomes"]["eligible"])
            yield Dashboard(url, run.id, eligible, coupon, pupil)


def _eligible_pupil(persons: Any, households: Any, as_of: date) -> str:
    """A pupil the school tariff grants on `as_of` (the city's day), by the campaign's engine;
    one in a leefloon household (category A) when there is one."""
    import polars as pl

    from entitle.rules.columnar import Population, evaluate_population
    from entitle.rules.loader import load_benefit

    benefit = load_benefit(BENEFITS / "school-tariff.yaml")
    decided = evaluate_population(benefit, Population(persons, households), as_of)
    eligible = decided.filter(pl.col("outcome") == "eligible")
    assert eligible.height > 0, "no pupil eligible on the city's day"
    if "band" in eligible.columns and (eligible["band"] == "A").any():
        eligible = eligible.filter(pl.col("band") == "A")
    return str(eligible["subject_id"].sort()[0])


@pytest.fixture(scope="module")
def chromium(dashboard: Dashboard) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def new_page(chromium: Any, dashboard: Dashboard, width: int = 1280) -> Any:
    context = chromium.new_context(
        base_url=dashboard.url, viewport={"width": width, "height": 1000}, locale="nl-BE"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


@pytest.fixture
def page(chromium: Any, dashboard: Dashboard) -> Iterator[Any]:
    page = new_page(chromium, dashboard)
    try:
        yield page
    finally:
        page.context.close()


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
    assert_focus(page, "reject-button")
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


def _fits_390(page: Any) -> None:
    """No horizontal scroll on a phone of 390 px (issue 16), naming what sticks out if any."""
    width = page.evaluate("document.documentElement.scrollWidth")
    # what sticks out of the page, outside any box that scrolls by itself (for the message)
    wide = page.evaluate(
        """[...document.querySelectorAll('body *')].filter(e => {
            if (e.getBoundingClientRect().right <= 390) return false;
            for (let p = e.parentElement; p; p = p.parentElement)
                if (getComputedStyle(p).overflowX !== 'visible') return false;
            return true;
        }).slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className.baseVal
            + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""
    )
    assert width <= 390, f"{page.url}: {width} px wide: {wide}"


CHART_WORDS = {
    "nl": ("Bonnen verstuurd per week", "Bonnen gebruikt per week", "Met recht: dit jaar"),
    "en": ("Coupons sent per week", "Coupons used per week", "Eligible: this year"),
}
PAGE_WORDS = {
    "nl": ("Campagnes", "Uitkomsten", "Bon controleren", "Code van de bon", "Vervallen"),
    "en": ("Campaigns", "Outcomes", "Check a coupon", "Coupon code", "Expired"),
}


@pytest.mark.parametrize(("lang", "width"), [("en", 1280), ("nl", 390), ("en", 390)])
def test_the_overview_run_and_coupon_pages_in_both_languages_and_on_a_phone(
    chromium: Any, dashboard: Dashboard, lang: str, width: int
) -> None:
    """The campaigns overview with its charts, a run page and the shop's coupon page, in English
    on a desktop and in both languages on a phone of 390 px: the charts are drawn, titled in the
    reader's language, and fit; nothing scrolls sideways; the coupon code fits its field."""
    page = new_page(chromium, dashboard, width)
    try:
        sign_in(page, "campaign")
        if lang == "en":
            with page.expect_navigation():
                page.locator("a[hreflang=en]").click()
        overview, outcomes, coupon_title, code_label, expired = PAGE_WORDS[lang]
        assert page.locator("h1").inner_text() == overview
        for key, words in zip(
            ("garbage-bags-issued", "garbage-bags-used", "garbage-bags-reach"),
            CHART_WORDS[lang],
            strict=True,
        ):
            figure = page.locator(f"#chart-{key}")
            assert figure.is_visible() and words in figure.inner_text()
            svg = figure.locator("svg")
            assert words in (svg.locator("title").text_content() or "")
            box = svg.bounding_box()  # drawn, not collapsed, and within the page
            assert box is not None and box["height"] > 20
            assert box["width"] > min(200, width / 2) and box["x"] + box["width"] <= width
            bars = svg.locator("g.bar")
            assert bars.count() >= 1 and (bars.first.locator("text").nth(1).text_content() or "")
            # readable: the labels' text at least 12 px high, on a phone too
            label = bars.first.locator("text").first.bounding_box()
            assert label is not None and label["height"] >= 12, label
        cost = page.locator("[id^='chart-garbage-bags-cost'] svg").first
        box = cost.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width
        if width == 390:
            _fits_390(page)
        page.screenshot(path=str(ARTIFACTS / f"campaigns-{lang}-{width}.png"), full_page=True)

        page.goto(f"/campaigns/runs/{dashboard.run_id}")
        assert outcomes in page.locator("main").inner_text()
        charts = page.locator("svg.bars")
        assert charts.count() >= 4
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert box is not None and box["width"] > 100 and box["x"] + box["width"] <= width
        if width == 390:
            _fits_390(page)
        page.screenshot(path=str(ARTIFACTS / f"run-{lang}-{width}.png"), full_page=True)

        page.goto(f"/coupons?code={dashboard.coupon}")
        assert page.locator("h1").inner_text() == coupon_title
        assert page.locator("label[for=coupon-code]").inner_text() == code_label
        assert page.locator("#coupon-code").input_value() == dashboard.coupon
        fits = page.evaluate(
            "(() => { const f = document.getElementById('coupon-code');"
            " return [f.scrollWidth, f.clientWidth]; })()"
        )
        assert fits[0] <= fits[1], f"the coupon code does not fit its field: {fits}"
        state = page.locator("#coupon-state").inner_text()
        assert expired in state  # last year's coupon, on the city's day
        assert "outcome-not_eligible" in (
            page.locator("#coupon-result").get_attribute("class") or ""
        )
        if width == 390:
            _fits_390(page)
        page.screenshot(path=str(ARTIFACTS / f"coupon-{lang}-{width}.png"), full_page=True)
    finally:
        page.context.close()


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("nl", ("Recht", "schooljaar 2025-2026", "31 augustus 2026")),
        ("en", ("Eligible", "school year 2025-2026", "31 August 2026")),
    ],
)
def test_a_pupil_enrolled_in_a_city_school_is_eligible_at_the_desk(
    chromium: Any, dashboard: Dashboard, lang: str, words: tuple[str, str, str]
) -> None:
    """Issue 16: the desk decides for the school year of its day, the one the city's enrolments
    are for (the city and the server's clock stand on AS_OF, 1 March 2026), so a pupil the school
    campaign grants is eligible at the desk too, with the category to grant: on a desktop and on a
    phone of 390 px."""
    label, year, until = words
    for width in (1280, 390):
        page = new_page(chromium, dashboard, width)
        try:
            sign_in(page, "desk")
            if lang == "en":
                with page.expect_navigation():
                    page.locator("a[hreflang=en]").click()
            card = check(page, dashboard.pupil, "ghent.school-tariff")
            assert "outcome-eligible" in (card.get_attribute("class") or ""), card.inner_text()
            assert page.locator("#card-title .label").inner_text() == label
            assert page.locator("#card-period").inner_text() == year
            assert until in card.inner_text()
            assert card.locator("ul.outputs li").count() >= 1  # what to grant
            if width == 390:
                _fits_390(page)
            page.screenshot(
                path=str(ARTIFACTS / f"desk-card-school-{lang}-{width}.png"), full_page=True
            )
        finally:
            page.context.close()


@pytest.mark.parametrize(
    ("lang", "words"), [("nl", ("geen leerlingen", "schooljaar")), ("en", ("no pupils", "school"))]
)
def test_a_what_if_on_a_day_without_data_says_so_on_a_phone(
    chromium: Any, dashboard: Dashboard, lang: str, words: tuple[str, str]
) -> None:
    """A what-if on a day the city holds no enrolments for decides nobody: the page says why, in
    the reader's language, and the warning fits a phone of 390 px."""
    page = new_page(chromium, dashboard, 390)
    try:
        sign_in(page, "campaign")
        if lang == "en":
            with page.expect_navigation():
                page.locator("a[hreflang=en]").click()
        page.goto("/campaigns/whatif?campaign=school-tariff")
        page.locator("#w-as-of").fill("2031-10-01")
        page.locator("#p-ceiling_care_discount").fill("45000")
        with page.expect_navigation():
            page.locator("#whatif-form button[type=submit]").click()
        warning = page.locator("#whatif-empty")
        warning.wait_for(timeout=120_000)
        text = warning.inner_text()
        assert words[0] in text and words[1] in text
        assert warning.get_attribute("role") == "alert"
        box = warning.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390
        _fits_390(page)
        page.screenshot(path=str(ARTIFACTS / f"whatif-empty-{lang}-390.png"), full_page=True)
    finally:
        page.context.close()
