"""The desk page against the registry simulator (a real process) on the test city: each outcome's
card, no raw values, overrides shown on later checks, INSZ checks, rate limits, languages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from test_registry_city import City
from test_web_support import (
    Web,
    assert_no_raw_values,
    csrf_token,
    desk_check,
    signed_in,
    web_app,
    write_partner_gap_city,
    write_web_city,
)

from entitle.web.desk import local_source_labels

UITPAS, GARBAGE, SCHOOL, LEZ = (
    "ghent.uitpas",
    "ghent.garbage-bags",
    "ghent.school-tariff",
    "ghent.lez",
)
PARTIAL = {"HX-Request": "true"}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    return write_web_city(tmp_path_factory.mktemp("city"))


@pytest.fixture(scope="module")
def web(city: City, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    # the clock is fixed, so the rate limit's window never slides: allow plenty here
    with web_app(city, tmp_path_factory.mktemp("web"), checks_per_minute=10_000) as running:
        yield running


def card_of(html: str) -> str:
    found = re.search(r'<section class="card.*?</section>', html, re.S)
    assert found, "no result card"
    return found.group(0)


def outcome_of(html: str) -> str:
    found = re.search(r'<section class="card outcome-(\w+)"', html)
    assert found, "no result card"
    return found.group(1)


def test_desk_page_needs_sign_in(web: Web) -> None:
    response = web.client().get("/desk")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_eligible_card(web: Web, city: City) -> None:
    client, csrf = signed_in(web, "desk")
    response = desk_check(client, csrf, city.ref, UITPAS)
    assert response.status_code == 200
    card = card_of(response.text)
    assert outcome_of(response.text) == "eligible"
    assert "✔" in card and "Recht" in card  # symbol and word, not colour alone
    assert "31 december 2025" in card  # valid until the end of the calendar year
    assert "Zet de UiTPAS op kansentarief" in card  # the guidance for the outcome
    assert "woont in Gent" in card  # condition texts from the benefit file
    assert "GeefSociaalStatuut" in card  # sources by name
    # the increased allowance settled it: the city's OCMW client file was not read
    assert "ocmw_clients" not in card and "OCMW Gent: cliëntenbestand" not in card
    assert "kansentarief" in card and "80" in card  # the outputs to grant
    assert "85.63.14-033.27" in card  # the number as on the eID
    assert_no_raw_values(response.text)


def test_not_eligible_card(web: Web, city: City) -> None:
    client, csrf = signed_in(web, "desk")
    response = desk_check(client, csrf, city.spouse, UITPAS)
    card = card_of(response.text)
    assert outcome_of(response.text) == "not_eligible"
    assert "✘" in card and "Geen recht" in card
    assert "Geen kansentarief op basis van de gegevens" in card
    assert "Toe te kennen" not in card


def test_undetermined_card_says_what_is_missing_and_what_to_ask(web: Web, city: City) -> None:
    client, csrf = signed_in(web, "desk")
    response = desk_check(client, csrf, city.not_integrated, UITPAS)
    card = card_of(response.text)
    assert outcome_of(response.text) == "undetermined"
    assert "Onbepaald" in card and "Dit is geen weigering" in card
    missing = card.split("Wat ontbreekt", 1)[1].split("Voorwaarden", 1)[0]
    assert "verhoogde tegemoetkoming" in missing  # the fact's description in Dutch
    assert "geen gegevens bij de bron" in missing
    assert "Vraag een attest verhoogde tegemoetkoming" in card  # what to ask the citizen
    assert "niet van toepassing" in card  # no validity for an undetermined outcome


def test_household_benefit_card(web: Web, city: City) -> None:
    client, csrf = signed_in(web, "desk")
    response = desk_check(client, csrf, city.pupil, GARBAGE)
    card = card_of(response.text)
    assert outcome_of(response.text) == "eligible"
    assert "Beslist voor het gezin van deze persoon" in card
    assert "GeefGezinssamenstelling" in card
    assert "105,00" in card  # the voucher for a household of four


def test_no_household_is_undetermined(web: Web, city: City) -> None:
    client, csrf = signed_in(web, "desk")
    response = desk_check(client, csrf, city.no_household, GARBAGE)
    card = card_of(response.text)
    assert outcome_of(response.text) == "undetermined"
    assert "de gezinssamenstelling (rijksregister)" in card


def test_health_data_is_never_shown(web: Web, city: City) -> None:
    """The disabled child's parking card decides nothing on the card: those conditions are
    shown as protected, not as ✔ or ✘."""
    client, csrf = signed_in(web, "desk")
    response = desk_check(client, csrf, city.disabled_child, LEZ)
    card = card_of(response.text)
    protected = re.findall(r'<li class="mark-protected">.*?</li>', card, re.S)
    assert protected, "conditions on a parking card are protected"
    for line in protected:
        assert "parkeerkaart" in line
        assert "beschermd gegeven" in line
    for line in re.findall(r'<li class="mark-(?:yes|no)">.*?</li>', card, re.S):
        assert "parkeerkaart" not in line


def test_income_is_never_shown(web: Web, city: City) -> None:
    """The pupil's school tariff reads the household's tax assessments: no amount on the page."""
    client, csrf = signed_in(web, "desk")
    response = desk_check(client, csrf, city.pupil, SCHOOL)
    assert outcome_of(response.text) in ("undetermined", "eligible", "not_eligible")
    assert "GeefAanslagbiljetPersonenbelasting" in response.text  # it was consulted ...
    assert_no_raw_values(response.text)  # ... but no amount shows
    for person in city.everyone:
        for benefit in (UITPAS, GARBAGE, SCHOOL, LEZ):
            assert_no_raw_values(desk_check(client, csrf, person, benefit).text)


def test_partial_update_returns_only_the_result(web: Web, city: City) -> None:
    client, csrf = signed_in(web, "desk")
    response = desk_check(client, csrf, city.ref, UITPAS, **PARTIAL)
    assert response.status_code == 200
    assert "<html" not in response.text and '<form method="post" action="/desk/check"' not in (
        response.text
    )
    assert outcome_of(response.text) == "eligible"


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("85.07.30-033.29", "controlecijfers"),
        ("8507300332", "11 cijfers"),
        ("85.13.30-033.28", "maand"),
        ("85O73003328", "enkel cijfers"),
    ],
)
def test_a_wrong_insz_is_refused_by_the_server(web: Web, typed: str, why: str) -> None:
    client, csrf = signed_in(web, "desk")
    before = len(web.state.backend.search(kind="check", limit=1000))
    response = desk_check(client, csrf, typed, UITPAS)
    assert response.status_code == 422
    assert why in response.text
    assert 'aria-invalid="true"' in response.text
    assert len(web.state.backend.search(kind="check", limit=1000)) == before  # nothing asked


def test_card_reader_and_formatted_input_are_the_same_person(web: Web, city: City) -> None:
    client, csrf = signed_in(web, "desk")
    bare = desk_check(client, csrf, city.ref, UITPAS)
    n = city.ref
    formatted = desk_check(client, csrf, f"{n[:2]}.{n[2:4]}.{n[4:6]}-{n[6:9]}.{n[9:]}", UITPAS)
    spaced = desk_check(client, csrf, f" {n[:6]} {n[6:9]} {n[9:]} ", UITPAS)
    assert outcome_of(bare.text) == outcome_of(formatted.text) == outcome_of(spaced.text)


def test_unknown_benefit_and_wrong_purpose(web: Web, city: City) -> None:
    client, csrf = signed_in(web, "desk")
    assert desk_check(client, csrf, city.ref, "ghent.nothing").status_code == 422
    response = client.post(
        "/desk/check",
        data={"insz": city.ref, "benefit": UITPAS, "purpose": "ghent-lez", "csrf_token": csrf},
    )
    assert response.status_code == 422
    assert "hoort niet bij dit voordeel" in response.text


def test_every_check_is_stored_and_audited_with_a_pseudonym(web: Web, city: City) -> None:
    client, csrf = signed_in(web, "desk")
    desk_check(client, csrf, city.leefloner, UITPAS)
    pseudonym = web.pseudonym(city.leefloner)
    entries = web.state.backend.search(subject=pseudonym, kind="check")
    assert entries and entries[0]["actor"] == "desk"
    assert entries[0]["purpose"] == "ghent-uitpas"
    assert entries[0]["outcome"] == "eligible"
    decision = web.state.backend.get_decision(entries[0]["details"]["decision"])
    assert decision is not None and decision["subject"]["pseudonym"] == pseudonym
    assert city.leefloner not in str(entries) + str(decision)


def test_override_is_shown_on_later_checks_until_it_expires(web: Web, city: City) -> None:
    client, csrf = signed_in(web, "desk")
    first = desk_check(client, csrf, city.not_integrated, LEZ)
    assert outcome_of(first.text) == "undetermined"
    decision_id = re.search(r'name="decision_id" value="(\d+)"', first.text)
    assert decision_id
    response = client.post(
        "/desk/override",
        data={
            "insz": city.not_integrated,
            "benefit": LEZ,
            "outcome": "eligible",
            "reason": "document_shown",
            "note": "Attest verhoogde tegemoetkoming van het ziekenfonds getoond.",
            "valid_until": "2025-12-31",
            "decision_id": decision_id.group(1),
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 200, response.text
    assert "De beslissing is overschreven" in response.text
    again = desk_check(client, csrf, city.not_integrated, LEZ)
    card = card_of(again.text)
    assert outcome_of(again.text) == "eligible"
    assert "Overschreven door een medewerker" in card
    assert "Attest of bewijs voorgelegd" in card and "ziekenfonds getoond" in card
    assert "Onbepaald" in card  # what the data said is still shown
    assert "31 december 2025" in card
    # another benefit, or another person: no override
    assert outcome_of(desk_check(client, csrf, city.not_integrated, UITPAS).text) == (
        "undetermined"
    )
    pseudonym = web.pseudonym(city.not_integrated)
    audited = web.state.backend.search(subject=pseudonym, kind="override")
    assert audited and audited[0]["details"]["reason"] == "document_shown"
    assert audited[0]["details"]["decision"] == int(decision_id.group(1))
    # once expired, the override no longer shows
    assert web.state.desk.active_override(LEZ, pseudonym, web.state.today()) is not None
    assert web.state.desk.active_override(LEZ, pseudonym, date(2026, 1, 1)) is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("outcome", "undetermined", "Kies een uitkomst"),
        ("reason", "because", "Kies een reden"),
        ("note", "   ", "Geef een toelichting"),
        ("valid_until", "2024-01-01", "Kies een einddatum"),
        ("valid_until", "2030-01-01", "Kies een einddatum"),
        ("valid_until", "morgen", "Kies een einddatum"),
    ],
)
def test_override_is_validated(web: Web, city: City, field: str, value: str, message: str) -> None:
    client, csrf = signed_in(web, "desk")
    data = {
        "insz": city.spouse,
        "benefit": UITPAS,
        "outcome": "eligible",
        "reason": "registry_lag",
        "note": "Verhoogde tegemoetkoming sinds vorige maand.",
        "valid_until": "2025-10-31",
        "csrf_token": csrf,
        field: value,
    }
    response = client.post("/desk/override", data=data)
    assert response.status_code == 422
    assert message in response.text
    pseudonym = web.pseudonym(city.spouse)
    assert web.state.desk.active_override(UITPAS, pseudonym, web.state.today()) is None


def test_only_officers_and_administrators_override(web: Web, city: City) -> None:
    client, csrf = signed_in(web, "campaign")
    card = desk_check(client, csrf, city.spouse, UITPAS)
    assert outcome_of(card.text) == "not_eligible"  # a campaign manager may check ...
    assert "/desk/override" not in card.text  # ... but is not offered the override
    response = client.post(
        "/desk/override",
        data={
            "insz": city.spouse,
            "benefit": UITPAS,
            "outcome": "eligible",
            "reason": "other",
            "note": "x",
            "valid_until": "2025-10-31",
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 403


def test_the_auditor_cannot_use_the_desk(web: Web, city: City) -> None:
    client, csrf = signed_in(web, "auditor")
    assert client.get("/desk").status_code == 403
    assert desk_check(client, csrf, city.ref, UITPAS).status_code == 403


def test_checks_are_rate_limited_per_officer(city: City, tmp_path: Path) -> None:
    with web_app(city, tmp_path, checks_per_minute=3) as limited:
        client, csrf = signed_in(limited, "desk")
        codes = [desk_check(client, csrf, city.ref, UITPAS).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = desk_check(client, csrf, city.ref, UITPAS)
        assert "te veel controles" in refused.text
        other, other_csrf = signed_in(limited, "admin")  # another officer has their own limit
        assert desk_check(other, other_csrf, city.ref, UITPAS).status_code == 200


def test_english(web: Web, city: City) -> None:
    client, csrf = signed_in(web, "desk")
    switched = client.get("/lang/en?next=/desk")
    assert switched.status_code == 303 and switched.headers["location"] == "/desk"
    page = client.get("/desk")
    assert '<html lang="en">' in page.text and "Desk check" in page.text
    card = card_of(desk_check(client, csrf, city.not_integrated, UITPAS).text)
    assert "Undetermined" in card and "This is not a refusal" in card
    assert "Ask for a certificate of the increased allowance" in card
    assert "lives in Ghent" in card
    client.get("/lang/nl?next=/desk")
    assert '<html lang="nl">' in client.get("/desk").text


def test_a_partial_lez_card_says_what_is_certain_open_and_whose_fact_is_missing(
    tmp_path: Path,
) -> None:
    """The spouse is not integrated at the KSZ: the reference person's LEZ right is certain (the
    reduced tariff), the exemption depends on the spouse's status and card."""
    city = write_partner_gap_city(tmp_path / "city")
    with web_app(city, tmp_path / "web", checks_per_minute=10_000) as running:
        client, csrf = signed_in(running, "desk")
        answer = desk_check(client, csrf, city.ref, LEZ)
        assert outcome_of(answer.text) == "eligible"
        tariff = re.search(r'<li class="open-part" data-output="tariff">(.*?)</li>', answer.text)
        assert tariff, "no certain/open line for the tariff"
        line = re.sub(r"<[^>]+>", "", tariff.group(1))
        assert line.startswith("tarief (vrijstelling of verlaagd): zeker: verlaagd tarief; ")
        assert "nog open: vrijstelling — ontbreekt: " in line
        missing = line.split("ontbreekt: ", 1)[1]
        assert missing.endswith(" van uw partner") and missing.count(" van ") == 1
        facts = missing.removesuffix(" van uw partner").split(" en ")
        assert set(facts) == {
            "verhoogde tegemoetkoming",
            "parkeerkaart voor personen met een handicap",
        }
        assert city.spouse not in answer.text and "Amal" not in answer.text
        assert_no_raw_values(answer.text)
        others = client.post(
            "/desk/check-others", data={"insz": city.ref, "benefit": UITPAS, "csrf_token": csrf}
        )
        lez = re.search(r'data-benefit="ghent.lez">(.*?)</li>', others.text, re.S)
        assert lez, "LEZ not among the other benefits"
        listed = re.sub(r"<[^>]+>", "", lez.group(1))
        assert "zeker: verlaagd tarief; nog open: vrijstelling — ontbreekt: " in listed
        assert "None" not in listed and "prijs toelating 1 week: nog open" in listed
        client.get("/lang/en?next=/desk")
        english = desk_check(client, csrf, city.ref, LEZ).text
        found = re.search(r'<li class="open-part" data-output="tariff">(.*?)</li>', english)
        assert found
        line = re.sub(r"<[^>]+>", "", found.group(1))
        assert "certain: reduced tariff; still open: exemption — missing: " in line
        facts = line.split("missing: ", 1)[1].removesuffix(" of your partner").split(" and ")
        assert set(facts) == {"increased allowance (VT/BIM)", "disability parking card"}


def test_language_switch_only_redirects_locally(web: Web) -> None:
    client = web.client()
    for target in ("https://evil.example/", "//evil.example/", "/\\evil"):
        response = client.get("/lang/en", params={"next": target})
        assert response.headers["location"] == "/"


def test_pages_are_not_cached_and_have_a_strict_policy(web: Web) -> None:
    client, _csrf = signed_in(web, "desk")
    page = client.get("/desk")
    assert page.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert '<script src="/static/desk.js"' in page.text
    assert "onclick" not in page.text and "<script>" not in page.text  # no inline script
    assert client.get("/static/desk.js").status_code == 200
    assert client.get("/static/desk.css").status_code == 200


def test_desk_page_keyboard_basics(web: Web) -> None:
    """The INSZ field has focus first, every input has a label, the card gets focus."""
    client, _csrf = signed_in(web, "desk")
    html = client.get("/desk").text
    assert re.search(r'<input id="insz"[^>]*autofocus', html, re.S)
    assert 'href="#content"' in html  # skip link
    for input_id in re.findall(r'<input id="([^"]+)"', html):
        assert f'for="{input_id}"' in html, input_id
    assert csrf_token(html)


def test_what_is_typed_is_escaped(web: Web, city: City) -> None:
    client, csrf = signed_in(web, "desk")
    attack = '"><script>alert(1)</script>'
    response = desk_check(client, csrf, attack, UITPAS)
    assert response.status_code == 422
    assert "<script>alert(1)" not in response.text
    client.post(
        "/desk/override",
        data={
            "insz": city.leefloner,
            "benefit": GARBAGE,
            "outcome": "eligible",
            "reason": "other",
            "note": attack,
            "valid_until": "2025-12-31",
            "csrf_token": csrf,
        },
    )
    card = desk_check(client, csrf, city.leefloner, GARBAGE).text
    assert "Overschreven door een medewerker" in card
    assert "<script>alert(1)" not in card and "&lt;script&gt;alert(1)" in card


def test_local_sources_are_named_after_their_municipality() -> None:
    labels = local_source_labels("Gemeente Vlasbeke", {"nl": "Vlasbeke", "en": "Vlasbeke"})
    assert labels["ocmw_clients"]["nl"].startswith("OCMW Vlasbeke")
    assert labels["school_enrolments"]["nl"].startswith("Gemeente Vlasbeke")
    assert not any("Gent" in text for label in labels.values() for text in label.values())
