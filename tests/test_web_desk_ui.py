"""The desk as its users found it (issue 16), over HTTP against the registry simulator: a number
the register does not know has its own outcome, an undetermined card cannot be overridden to "no
right", a failed sign-in keeps the username, campaign managers land on their campaigns, a
favicon, no emoji lock, plural "1 vraag"."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from test_registry_city import City
from test_web_support import (
    Web,
    desk_check,
    login,
    signed_in,
    web_app,
    write_web_city,
)

from entitle.web.i18n import Translator

UITPAS, GARBAGE, LEZ = "ghent.uitpas", "ghent.garbage-bags", "ghent.lez"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    return write_web_city(tmp_path_factory.mktemp("city"))


@pytest.fixture(scope="module")
def web(city: City, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    with web_app(city, tmp_path_factory.mktemp("web"), checks_per_minute=10_000) as running:
        yield running


def outcome_of(html: str) -> str:
    found = re.search(r'<section class="card outcome-(\w+)"', html)
    assert found, "no result card"
    return found.group(1)


def override_choices(html: str) -> list[str]:
    return re.findall(r'<input type="radio" name="outcome" value="(\w+)"', html)


@pytest.mark.parametrize("benefit", [UITPAS, GARBAGE])
@pytest.mark.parametrize(
    ("lang", "label", "words"),
    [
        ("nl", "Nummer niet gekend", "niet gekend in het rijksregister: controleer de eID"),
        ("en", "Number not known", "national register does not know this number: check the eID"),
    ],
)
def test_a_number_the_register_does_not_know_has_its_own_outcome(
    web: Web, city: City, benefit: str, lang: str, label: str, words: str
) -> None:
    client, csrf = signed_in(web, "desk")
    client.cookies.set("entitle_lang", lang)
    response = desk_check(client, csrf, city.unknown, benefit)
    assert outcome_of(response.text) == "unknown_number"
    assert label in response.text and words in response.text
    assert "MSG00021" not in response.text  # not the guidance for missing data
    assert override_choices(response.text) == ["eligible"]


def test_a_known_number_without_data_stays_undetermined(web: Web, city: City) -> None:
    client, csrf = signed_in(web, "desk")
    for insz, benefit in ((city.not_integrated, UITPAS), (city.no_household, GARBAGE)):
        response = desk_check(client, csrf, insz, benefit)
        assert outcome_of(response.text) == "undetermined", insz
        assert "Nummer niet gekend" not in response.text


def test_the_api_keeps_undetermined_and_says_the_number_is_unknown(web: Web, city: City) -> None:
    token = web.token(["ghent-uitpas"], [UITPAS])
    client = web.client()
    answer = client.post(
        "/api/v1/checks",
        json={"insz": city.unknown, "benefit": UITPAS, "purpose": "ghent-uitpas"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["outcome"] == "undetermined" and body["number_known"] is False


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_an_undetermined_card_is_never_overridden_to_no_right(
    web: Web, city: City, lang: str
) -> None:
    client, csrf = signed_in(web, "desk")
    client.cookies.set("entitle_lang", lang)
    card = desk_check(client, csrf, city.not_integrated, LEZ)
    assert outcome_of(card.text) == "undetermined"
    assert override_choices(card.text) == ["eligible"]
    decision = re.search(r'name="decision_id" value="(\d+)"', card.text)
    assert decision
    refused = client.post(
        "/desk/override",
        data={
            "csrf_token": csrf,
            "insz": city.not_integrated,
            "benefit": LEZ,
            "decision_id": decision.group(1),
            "outcome": "not_eligible",
            "reason": "other",
            "note": "Geen attest.",
            "valid_until": "2025-12-31",
        },
    )
    assert refused.status_code == 422
    expected = {"nl": "nooit overschreven naar", "en": "never overridden to"}[lang]
    assert expected in refused.text.replace("&#34;", '"')
    assert override_choices(refused.text) == ["eligible"]
    eligible = desk_check(client, csrf, city.ref, UITPAS)
    assert override_choices(eligible.text) == ["eligible", "not_eligible"]


def test_a_failed_sign_in_keeps_the_username_but_never_a_number(web: Web, city: City) -> None:
    client = web.client()
    failed = login(client, "desk", "wrong password")
    assert failed.status_code == 401
    assert re.search(r'id="username"[^>]*value="desk"', failed.text)
    assert re.search(r'id="password"[^>]*autofocus', failed.text)
    typed_number = login(client, city.ref, "wrong password")
    assert city.ref not in typed_number.text


def test_campaign_managers_land_on_their_campaigns(web: Web) -> None:
    client = web.client()
    response = login(client, "campaign")
    assert response.headers["location"] == "/campaigns"
    assert client.get("/", follow_redirects=False).headers["location"] == "/campaigns"


def test_a_favicon(web: Web) -> None:
    client = web.client()
    page = client.get("/login")
    assert '<link rel="icon" href="/static/favicon.svg"' in page.text
    icon = client.get("/favicon.ico", follow_redirects=True)
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")


def test_protected_conditions_show_an_svg_lock_not_an_emoji(web: Web, city: City) -> None:
    client, csrf = signed_in(web, "desk")
    response = desk_check(client, csrf, city.disabled_child, LEZ)
    assert "🔒" not in response.text
    lock = r'<li class="mark-protected">\s*<span class="mark"[^>]*><svg class="lock"'
    assert re.search(lock, response.text)
    assert "▸" not in client.get("/static/desk.css").text  # the sources are no toggles


@pytest.mark.parametrize(
    ("lang", "one", "many"),
    [
        ("nl", "1 vraag aan de bronnen", "3 vragen aan de bronnen"),
        ("en", "1 question to the sources", "3 questions to the sources"),
    ],
)
def test_one_question_is_singular(lang: str, one: str, many: str) -> None:
    t = Translator(lang)
    assert t.plural("card.questions", 1) == one
    assert t.plural("card.questions", 3) == many


def test_the_dutch_check_finds_keys_and_english_words() -> None:
    from test_web_support import dutch_problems

    assert dutch_problems("<p>Recht — verlaagd tarief</p><code>ghent.lez</code>") == []
    assert dutch_problems("<p>card.outcome.eligible</p>") != []
    assert dutch_problems("<td>override</td>") == ["English 'override'"]
    assert dutch_problems("<td>overridden=False</td>") != []


def test_every_desk_card_and_the_desk_page_speak_dutch(web: Web, city: City) -> None:
    from test_web_support import assert_dutch

    client, csrf = signed_in(web, "desk")
    assert_dutch(client.get("/desk").text)
    for insz in (city.ref, city.spouse, city.not_integrated, city.unknown, city.disabled_child):
        for benefit in (UITPAS, GARBAGE, LEZ, "ghent.school-tariff"):
            assert_dutch(desk_check(client, csrf, insz, benefit).text)
    login_page = web.client().get("/login").text
    assert_dutch(login_page)


@pytest.mark.parametrize(
    ("lang", "allowance", "leefloon"),
    [
        (
            "nl",
            "Vraag het attest verhoogde tegemoetkoming",
            "Vraag een attest leefloon van het OCMW.",
        ),
        ("en", "Ask for the health fund's increased allowance", "Ask for a leefloon certificate"),
    ],
)
def test_what_now_is_said_per_condition_shortest_first(
    web: Web, city: City, lang: str, allowance: str, leefloon: str
) -> None:
    client, csrf = signed_in(web, "desk")
    client.cookies.set("entitle_lang", lang)
    html = desk_check(client, csrf, city.not_integrated, UITPAS).text.replace("&#39;", "'")
    steps = re.search(r'<ul class="guidance steps">(.*?)</ul>', html, re.S)
    assert steps, "no guidance per condition"
    items = re.findall(r"<li>(.*?)</li>", steps.group(1), re.S)
    assert any(allowance in i for i in items) and any(leefloon in i for i in items)
    assert [len(i) for i in items] == sorted(len(i) for i in items)  # shortest first
    assert '<details class="more">' in html  # the long text per outcome, folded
    granted = desk_check(client, csrf, city.ref, UITPAS).text
    assert 'class="guidance steps"' not in granted  # nothing to do about a granted benefit


def test_a_school_year_the_city_holds_no_enrolments_for_is_unknown_not_no(
    city: City, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The city's enrolments are for 2025-2026; on 2 December 2026 (school year 2026-2027) the
    pupil is not "not enrolled" — the dataset cannot say: undetermined, with what to ask."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    later = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Europe/Brussels"))
    folder = tmp_path_factory.mktemp("web-later")
    with web_app(city, folder, clock=lambda: later, checks_per_minute=10_000) as running:
        client, csrf = signed_in(running, "desk")
        html = desk_check(client, csrf, city.pupil, "ghent.school-tariff").text
    assert outcome_of(html) == "undetermined"
    pupil = re.search(
        r'<li class="mark-(\w+)">\s*<span class="mark".*?ingeschreven in een', html, re.S
    )
    assert pupil and pupil.group(1) == "unknown"
    assert "Vraag een bewijs van inschrijving van de school." in html


def test_the_city_file_datasets_say_which_school_years_they_hold(tmp_path: Path) -> None:
    import polars as pl

    from entitle.sources.local import FileDatasets, SchoolYearMissing

    pl.DataFrame(
        {"person_id": ["1", "2"], "school_year": ["2025-2026", "2025-2026"]}
    ).write_parquet(tmp_path / "school_enrolments.parquet")
    datasets = FileDatasets(tmp_path)
    found = datasets.lookup("school_enrolments", "enrolled", ["1", "3"], date(2026, 3, 1))
    assert found == {"1": True, "3": False}  # a year the city holds: absent is "not enrolled"
    with pytest.raises(SchoolYearMissing):
        datasets.lookup("school_enrolments", "enrolled", ["1"], date(2026, 12, 2))


@pytest.mark.parametrize(
    ("lang", "school", "calendar"),
    [
        ("nl", "schooljaar 2025-2026", "kalenderjaar 2025"),
        ("en", "school year 2025-2026", "calendar year 2025"),
    ],
)
def test_the_card_says_which_school_year_or_calendar_year_it_decided_for(
    web: Web, city: City, lang: str, school: str, calendar: str
) -> None:
    """Decided on 15 September 2025 (the test clock): the school tariff is for the school year
    2025-2026, garbage bags for the calendar year 2025."""
    client, csrf = signed_in(web, "desk")
    client.cookies.set("entitle_lang", lang)
    pupil = desk_check(client, csrf, city.pupil, "ghent.school-tariff").text
    assert re.search(rf'id="card-period">{school}<', pupil)
    bags = desk_check(client, csrf, city.ref, GARBAGE).text
    assert re.search(rf'id="card-period">{calendar}<', bags)
