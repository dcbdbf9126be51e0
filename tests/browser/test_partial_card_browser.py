"""A partial LEZ decision in a real browser: the card says what is certain, what is still open and
whose missing fact would settle it, in Dutch and in English.

The test city's reference person has the increased allowance; their spouse is not integrated at
the Crossroads Bank, so whether the spouse's parking card brings the exemption is open. The
application and the registry simulator run as processes, as in ``test_desk_browser.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from test_desk_browser import ARGS, ARTIFACTS, CHROMIUM, Desk, _require_chromium, check, sign_in
from test_web_support import (
    BENEFITS,
    CAPACITY,
    PASSWORD,
    SENDER,
    assert_no_raw_values,
    running_web,
    simulator,
    write_partner_gap_city,
)


@pytest.fixture(scope="module")
def gap_desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    _require_chromium()
    folder = tmp_path_factory.mktemp("partial")
    city = write_partner_gap_city(folder / "city")
    database = f"sqlite:///{folder / 'entitle.db'}"
    from entitle.web.backend import Backend

    backend = Backend(database)
    backend.add_user("desk", PASSWORD, "desk_officer")
    backend.close()
    with simulator(city, folder) as registry:
        env = {
            **os.environ,
            "ENTITLE_MAGDA_SENDER": SENDER,
            "ENTITLE_MAGDA_DEFAULT_CAPACITY": CAPACITY,
        }
        options = ["--database-url", database, "--registry", registry.url]
        options += ["--benefits", str(BENEFITS), "--data-dir", str(folder / "state")]
        log = folder / "web.log"
        with running_web(options, env, log) as (url, process):
            yield Desk(url, city, process, log)


@pytest.fixture(scope="module")
def gap_page(gap_desk: Desk) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = chromium.new_context(
            base_url=gap_desk.url, viewport={"width": 1280, "height": 1000}, locale="nl-BE"
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            chromium.close()


def _tariff_line(page: Any) -> dict[str, str]:
    line = page.locator("#card ul.outputs li.open-part[data-output='tariff']")
    return {
        "all": " ".join(line.inner_text().split()),
        "certain": line.locator(".certain").inner_text(),
        "open": line.locator(".still-open").inner_text(),
        "missing": line.locator(".settled-by").inner_text(),
    }


def test_the_card_of_a_partial_lez_decision(gap_page: Any, gap_desk: Desk) -> None:
    page, city = gap_page, gap_desk.city
    sign_in(page, "desk")
    card = check(page, city.ref, "ghent.lez")
    assert "outcome-eligible" in (card.get_attribute("class") or "")
    assert page.locator("#card-title .label").inner_text() == "Recht"
    dutch = _tariff_line(page)
    assert dutch["certain"] == "zeker: verlaagd tarief"
    assert dutch["open"] == "nog open: vrijstelling"
    assert dutch["missing"].startswith("ontbreekt: ")
    assert dutch["missing"].endswith(" van uw partner")
    assert "verhoogde tegemoetkoming" in dutch["missing"]
    assert (
        "zeker: verlaagd tarief; nog open: vrijstelling — ontbreekt: " in dutch["all"]
    )  # one sentence, in this order
    # the prices have no levels: open, without a minimum
    prices = page.locator("#card ul.outputs li:not(.open-part)").all_inner_texts()
    assert prices and all(text.endswith("nog open") for text in prices)
    # the facts are also listed with why they are missing, and whose they are
    listed = page.locator("#card ul.missing").inner_text()
    assert "verhoogde tegemoetkoming (van: uw partner)" in listed
    content = page.content()
    assert city.spouse not in content and "Amal" not in content  # never who, by number or name
    assert_no_raw_values(content)
    page.screenshot(path=str(ARTIFACTS / "desk-card-partial.png"), full_page=True)

    page.goto("/lang/en?next=/desk")
    check(page, city.ref, "ghent.lez")
    english = _tariff_line(page)
    assert english["certain"] == "certain: reduced tariff"
    assert english["open"] == "still open: exemption"
    assert english["missing"].startswith("missing: ")
    assert english["missing"].endswith(" of your partner")
    assert "increased allowance" in english["missing"]
    page.screenshot(path=str(ARTIFACTS / "desk-card-partial-en.png"), full_page=True)
