"""The desk in a real browser: Debian's Chromium driven by Playwright (sync API, headless).

The application runs as ``python -m entitle.cli.web serve`` (uvicorn) in a subprocess on a
free port, against the registry simulator (another process) on the test city and a SQLite
database in a temporary folder. Screenshots of the main pages go to
``tests/browser/artifacts/`` (ignored by git).

Without Chromium the tests are skipped with the reason, except under ``CI=true``, where a
missing browser is an error.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from test_registry_city import City  # noqa: E402
from test_web_support import (  # noqa: E402
    BENEFITS,
    CAPACITY,
    PASSWORD,
    SENDER,
    assert_no_raw_values,
    running_web,
    simulator,
    write_web_city,
)

from entitle.web import inszcheck  # noqa: E402

REPO = TESTS.parent
CHROMIUM = os.environ.get("ENTITLE_CHROMIUM", "/usr/bin/chromium")
HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _require_chromium() -> None:
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return
    message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    if _ci():
        pytest.fail(f"{message}: the browser tests must run under CI=true")
    pytest.skip(message)


@dataclass
class Desk:
    url: str
    city: City
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    _require_chromium()
    folder = tmp_path_factory.mktemp("browser")
    city = write_web_city(folder / "city")
    database = f"sqlite:///{folder / 'entitle.db'}"
    from entitle.web.backend import Backend

    backend = Backend(database)
    for username, role in (("desk", "desk_officer"), ("auditor", "auditor")):
        backend.add_user(username, PASSWORD, role)
    backend.close()
    with simulator(city, folder) as registry:
        env = {
            **os.environ,
            "ENTITLE_MAGDA_SENDER": SENDER,
            "ENTITLE_MAGDA_DEFAULT_CAPACITY": CAPACITY,
            # the clock runs from the HTTP tests' day (clocked_app.py): the school year and
            # income years of the test city, whatever today's date
            "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
        }
        options = ["--database-url", database, "--registry", registry.url]
        options += ["--benefits", str(BENEFITS), "--data-dir", str(folder / "state")]
        options += ["--app-factory", "clocked_app:app_from_env"]
        log = folder / "web.log"
        with running_web(options, env, log) as (url, process):
            yield Desk(url, city, process, log)


@pytest.fixture(scope="module")
def browser(desk: Desk) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, desk: Desk) -> Iterator[Any]:
    context = browser.new_context(
        base_url=desk.url, viewport={"width": 1280, "height": 1000}, locale="nl-BE"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


def assert_focus(page: Any, element_id: str) -> None:
    """The element `element_id` has the focus, or gets it within the page's timeout: a browser
    applies `autofocus` at its next rendering step, which may come after the load event."""
    page.wait_for_function(
        f"document.activeElement !== null && document.activeElement.id === {element_id!r}"
    )


def sign_in(page: Any, username: str) -> None:
    page.goto("/login")
    assert_focus(page, "username")  # autofocus
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def check(page: Any, insz: str, benefit: str) -> Any:
    """As at the counter: pick the benefit, then the card reader types the number and Enter."""
    page.locator(f"#check-form input[name=benefit][value='{benefit}']").check()
    field = page.locator("#insz")
    field.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type(insz)
    with page.expect_response(lambda r: r.url.endswith("/desk/check")):
        page.keyboard.press("Enter")
    card = page.locator("#card")
    card.wait_for()
    return card


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_sign_in_and_a_check_for_each_outcome(page: Any, desk: Desk) -> None:
    sign_in(page, "desk")
    assert page.url.endswith("/desk")
    assert_focus(page, "insz")  # ready for the card reader
    shot(page, "desk-empty")
    city = desk.city
    for insz, benefit, outcome, word in (
        (city.ref, "ghent.uitpas", "eligible", "Recht"),
        (city.spouse, "ghent.uitpas", "not_eligible", "Geen recht"),
        (city.not_integrated, "ghent.uitpas", "undetermined", "Onbepaald"),
        (city.pupil, "ghent.garbage-bags", "eligible", "Recht"),
    ):
        card = check(page, insz, benefit)
        assert f"outcome-{outcome}" in (card.get_attribute("class") or "")
        assert page.locator("#card-title .label").inner_text() == word
        # ready for the next card read: the number field has the focus, its number selected
        assert_focus(page, "insz")
        assert page.evaluate(
            "(() => { const f = document.getElementById('insz');"
            " return f.selectionStart === 0 && f.selectionEnd === f.value.length; })()"
        )
        assert "<html" not in page.locator("#result").inner_html()  # only the card swapped
        assert_no_raw_values(page.content())
        if outcome == "eligible" and benefit == "ghent.uitpas":
            shot(page, "desk-card-eligible")
        if outcome == "undetermined":
            assert "verhoogde tegemoetkoming" in page.locator("ul.missing").inner_text()
            shot(page, "desk-card-undetermined")


def test_a_mistyped_insz_is_refused_before_it_is_sent(page: Any, desk: Desk) -> None:
    sign_in(page, "desk")
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/desk/check" in r.url else None)
    number = desk.city.ref
    mistyped = number[:-1] + str((int(number[-1]) + 1) % 10)
    page.locator("#insz").focus()
    page.keyboard.type(mistyped)
    status = page.locator("#insz-status")
    assert "controlecijfers" in status.inner_text()  # said while typing
    page.keyboard.press("Enter")
    assert page.locator("#insz").get_attribute("aria-invalid") == "true"
    assert_focus(page, "insz")
    page.wait_for_timeout(300)
    assert sent == []  # nothing went to the server
    assert page.locator("#card").count() == 0
    page.keyboard.press("Control+A")
    page.keyboard.type(number[:6])
    assert status.inner_text() == ""  # too short while typing is not an error yet
    page.keyboard.type(number[6:])
    assert "Geldig" in status.inner_text()
    assert page.locator("#insz").get_attribute("aria-invalid") is None


def test_any_new_input_clears_the_previous_card(page: Any, desk: Desk) -> None:
    sign_in(page, "desk")
    city = desk.city
    check(page, city.ref, "ghent.uitpas")
    page.keyboard.type("8")  # the next card read starts: the old card is about someone else
    assert page.locator("#card").count() == 0
    check(page, city.ref, "ghent.uitpas")
    page.locator("#check-form input[name=benefit][value='ghent.lez']").check()
    assert page.locator("#card").count() == 0  # another benefit: the card no longer applies
    check(page, city.ref, "ghent.uitpas")
    mistyped = city.ref[:-1] + str((int(city.ref[-1]) + 1) % 10)
    page.locator("#insz").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type(mistyped)
    page.keyboard.press("Enter")
    assert page.locator("#card").count() == 0
    assert page.locator("#insz").get_attribute("aria-invalid") == "true"


def _no_horizontal_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url}: {width} px wide"


def _number_fits(page: Any) -> None:
    fits = page.evaluate(
        "(() => { const f = document.getElementById('insz');"
        " return f.scrollWidth <= f.clientWidth; })()"
    )
    assert fits, "the INSZ field cuts the number off"


@pytest.mark.parametrize("lang", ["nl-BE", "en-GB"])
def test_a_phone_of_390_px_never_scrolls_sideways(browser: Any, desk: Desk, lang: str) -> None:
    context = browser.new_context(
        base_url=desk.url, viewport={"width": 390, "height": 844}, locale=lang
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto("/login")
        _no_horizontal_scroll(page)
        sign_in(page, "desk")
        if lang.startswith("en"):
            with page.expect_navigation():
                page.locator("a[hreflang=en]").click()
        _no_horizontal_scroll(page)
        city = desk.city
        for insz, benefit in (
            (city.ref, "ghent.uitpas"),
            (city.not_integrated, "ghent.lez"),
            (city.disabled_child, "ghent.lez"),
            (city.pupil, "ghent.school-tariff"),
            (city.unknown, "ghent.garbage-bags"),
        ):
            check(page, insz, benefit)
            _no_horizontal_scroll(page)
            _number_fits(page)
        shot(page, f"desk-390-{lang[:2]}")
        page.goto("/audit")
        _no_horizontal_scroll(page)
    finally:
        context.close()


def test_the_number_fits_its_field_on_a_desktop(page: Any, desk: Desk) -> None:
    sign_in(page, "desk")
    check(page, desk.city.ref, "ghent.uitpas")
    _number_fits(page)


def test_the_browser_check_mirrors_the_server_check(page: Any, desk: Desk) -> None:
    samples = [
        desk.city.ref,
        desk.city.unknown,
        "93051822361",
        "17073003384",
        "00012556777",
        "98472899765",
        "01490700185",
        "85.07.30-033.28",
        "85 07 30 033 28",
        "85073003329",
        "8507300332",
        "85a73003328",
        "85.13.30-033.28",
        "85.07.32-033.28",
        "85.07.30-000.28",
        "85.07.30-999.28",
        "85.92.30-033.28",
        "85.02.30-033.90",
        "01.02.29-033.34",
        "85.42.31-034.48",
        "00.02.29-033.13",  # 29 February 2000: valid
        "",
    ]
    page.goto("/login")
    page.wait_for_function("typeof window.entitleInszProblem === 'function'")
    for sample in samples:
        found = page.evaluate(
            "(s) => { const p = window.entitleInszProblem(s); return p ? p.code : null; }", sample
        )
        expected = inszcheck.problem(sample)
        assert found == (expected[0] if expected else None), sample


def test_an_undetermined_case_overridden_then_shown_as_overridden(page: Any, desk: Desk) -> None:
    sign_in(page, "desk")
    card = check(page, desk.city.not_integrated, "ghent.lez")
    assert "outcome-undetermined" in (card.get_attribute("class") or "")
    page.locator("#override-details summary").focus()
    page.keyboard.press("Enter")  # opens the override form (keyboard only)
    page.locator("input[name=outcome][value=eligible]").check()
    page.locator("#override-reason").select_option("document_shown")
    page.locator("#override-note").fill("Parkeerkaart en attest ziekenfonds getoond.")
    shot(page, "override-form")
    with page.expect_response(lambda r: r.url.endswith("/desk/override")):
        page.locator("#override-form button[type=submit]").press("Enter")
    notice = page.locator("#notice")
    notice.wait_for()
    assert "overschreven" in notice.inner_text()
    card = check(page, desk.city.not_integrated, "ghent.lez")
    assert "outcome-eligible" in (card.get_attribute("class") or "")
    banner = page.locator(".override-banner").inner_text()
    assert "Overschreven door een medewerker" in banner
    assert "Attest of bewijs voorgelegd" in banner and "Onbepaald" in banner
    shot(page, "desk-card-overridden")


def test_an_override_note_with_an_amount_is_given_back_scrubbed(page: Any, desk: Desk) -> None:
    """Free text (pen-test finding 5): the officer sees what would be stored, and why, before
    anything is saved; the scrubbed note then saves."""
    sign_in(page, "desk")
    check(page, desk.city.spouse, "ghent.lez")
    page.locator("#override-details summary").click()
    page.locator("input[name=outcome][value=eligible]").check()
    page.locator("#override-reason").select_option("other")
    page.locator("#override-note").fill("Inkomen 1.234,56 EUR volgens loonbrief.")
    with page.expect_response(lambda r: r.url.endswith("/desk/override")) as answer:
        page.locator("#override-form button[type=submit]").click()
    assert answer.value.status == 422
    alert = page.locator("#override-details .error")
    alert.wait_for()
    assert "een bedrag" in alert.inner_text()
    assert page.locator("#override-note").input_value() == "Inkomen [bedrag] volgens loonbrief."
    shot(page, "override-scrubbed")
    with page.expect_response(lambda r: r.url.endswith("/desk/override")) as answer:
        page.locator("#override-form button[type=submit]").click()
    assert answer.value.status == 200
    page.locator("#notice").wait_for()
    assert "1.234,56" not in page.content()


def test_the_card_checks_the_other_benefits_with_one_click(page: Any, desk: Desk) -> None:
    sign_in(page, "desk")
    check(page, desk.city.ref, "ghent.uitpas")
    listed = page.locator("#others-section ul.other-benefits li")
    assert [li.get_attribute("data-benefit") for li in listed.all()] == [
        "ghent.garbage-bags",
        "ghent.lez",
        "ghent.school-tariff",
    ]
    assert "Andere voordelen" in page.locator("#others-title").inner_text()
    page.locator("#check-others").focus()
    with page.expect_response(lambda r: r.url.endswith("/desk/check-others")):
        page.keyboard.press("Enter")
    results = page.locator("#others .other-result")
    results.first.wait_for()
    outcomes = {
        li.get_attribute("data-benefit"): li.get_attribute("class") or "" for li in results.all()
    }
    assert set(outcomes) == {"ghent.garbage-bags", "ghent.lez", "ghent.school-tariff"}
    assert "outcome-eligible" in outcomes["ghent.garbage-bags"]
    assert "outcome-eligible" in outcomes["ghent.lez"]
    # an adult is never a pupil
    assert "outcome-not_eligible" in outcomes["ghent.school-tariff"]
    lez = page.locator("#others .other-result[data-benefit='ghent.lez']").inner_text()
    assert "Recht" in lez and "ghent-lez" in lez  # its own purpose, shown
    assert page.locator("#card").count() == 1  # the first card stays
    assert "outcome-eligible" in (page.locator("#card").get_attribute("class") or "")
    assert page.locator("#check-others").count() == 0  # nothing left to check
    assert_focus(page, "others-section")
    assert_no_raw_values(page.content())
    shot(page, "desk-other-benefits")


def test_the_auditor_searches_the_log_and_makes_a_subject_report(page: Any, desk: Desk) -> None:
    sign_in(page, "auditor")
    assert page.url.endswith("/audit")
    page.locator("#a-actor").fill("desk")
    page.locator("#a-kind").select_option("check")
    with page.expect_navigation():
        page.locator("#audit-form button[type=submit]").click()
    rows = page.locator("table.entries tbody tr")
    assert rows.count() >= 1
    assert "ghent-uitpas" in page.locator("table.entries").inner_text()
    shot(page, "auditor-search")
    page.goto("/audit/subject")
    page.keyboard.type(desk.city.not_integrated)  # the field has focus
    with page.expect_navigation():
        page.keyboard.press("Enter")
    report = page.locator("table.entries").inner_text()
    assert "Overschrijving" in report and "Controle aan de balie" in report  # in Dutch
    assert "Vraag aan een bron" in report  # the registry accesses too
    assert "controles gevonden" in page.locator("p.notice").inner_text()
    assert desk.city.not_integrated not in report
    shot(page, "auditor-subject-report")
    page.goto("/audit/alerts")
    assert page.locator("h1").inner_text() == "Ongewone activiteit"


def test_a_desk_officer_is_refused_the_auditor_pages(page: Any, desk: Desk) -> None:
    sign_in(page, "desk")
    response = page.goto("/audit")
    assert response is not None and response.status == 403
    assert "geen toegang" in page.locator("main").inner_text()
    assert page.locator("nav a[href='/audit']").count() == 0
    shot(page, "desk-officer-refused")


def test_english_and_sign_out(page: Any, desk: Desk) -> None:
    sign_in(page, "desk")
    with page.expect_navigation():
        page.locator("a[hreflang=en]").click()
    assert page.locator("h1").inner_text() == "Desk check"
    card = check(page, desk.city.ref, "ghent.uitpas")
    assert page.locator("#card-title .label").inner_text() == "Eligible"
    assert card.is_visible()
    with page.expect_navigation():
        page.locator("a[hreflang=nl]").click()
    with page.expect_navigation():
        page.locator("form[action='/logout'] button").click()
    assert "/login" in page.url
    assert page.goto("/desk") is not None
    assert "/login" in page.url


def test_no_console_errors(page: Any, desk: Desk) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, "desk")
    check(page, desk.city.ref, "ghent.uitpas")
    assert errors == []


def test_chromium_is_where_ci_expects_it() -> None:
    if _ci():
        assert shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()
