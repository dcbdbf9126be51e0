"""Parsed MAGDA answers → catalogue facts: values, or typed unavailability (never a silent No)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from entitle.rules.catalogue import default_catalogue
from entitle.sources.magda import (
    FACT_SERVICES,
    STATUS_FACTS,
    ErrorKind,
    Known,
    Unavailable,
    facts_for_service,
    map_facts,
    parse_response,
    statuses_for,
)
from entitle.sources.magda.errors import Uitzondering
from entitle.sources.magda.facts import ABROAD
from entitle.sources.magda.parsers import Answer

MOCK = Path(__file__).resolve().parents[2] / "shared" / "magda-mock"
RESPONSES = MOCK / "responses"
AS_OF = date(2025, 6, 1)


def _answer(rel: str) -> Answer | None:
    if not RESPONSES.is_dir():
        pytest.skip("MAGDA mock messages not found")
    response = parse_response((RESPONSES / rel).read_bytes())
    return response.answers[0] if response.answers else None


def _reply_errors(rel: str) -> tuple[Uitzondering, ...]:
    return parse_response((RESPONSES / rel).read_bytes()).errors


def test_every_magda_fact_of_the_catalogue_is_mapped_from_its_source() -> None:
    catalogue = default_catalogue()
    magda = {name: spec for name, spec in catalogue.items() if spec.source.get("kind") == "magda"}
    assert magda, "the catalogue has MAGDA facts"
    for name, spec in magda.items():
        assert FACT_SERVICES.get(name) == spec.source["service"], name
        if name in STATUS_FACTS:
            assert STATUS_FACTS[name] in spec.source["field"]
    for name, service in FACT_SERVICES.items():
        if name in catalogue:
            assert catalogue[name].source["service"] == service


def test_statuses_for_facts() -> None:
    assert statuses_for(["person.increased_allowance", "person.birth_date"]) == ("BIM_BVT",)
    assert statuses_for(STATUS_FACTS) == tuple(sorted(STATUS_FACTS.values()))


def test_social_statuses_become_booleans() -> None:
    answer = _answer("SocZek/GeefSociaalStatuut/03.00.0000/62691699717.xml")
    facts = map_facts("GeefSociaalStatuut", answer, subject="62691699717", as_of=AS_OF)
    assert facts["person.increased_allowance"] == Known(True)
    assert facts["person.leefloon"] == Known(True)
    # a status that is not in the answer is unknown, never false
    parking = facts["person.disability_parking_card"]
    assert isinstance(parking, Unavailable) and parking.kind == ErrorKind.NO_DATA

    answer = _answer("SocZek/GeefSociaalStatuut/03.00.0000/00683042157.xml")
    facts = map_facts("GeefSociaalStatuut", answer, subject="00683042157", as_of=AS_OF)
    assert facts["person.disability_parking_card"] == Known(True)
    assert facts["person.disability_parking_card_child"] == Known(False)


def test_no_data_and_errors_are_typed_never_false() -> None:
    cases = {
        "SocZek/GeefSociaalStatuut/03.00.0000/69650368562.xml": ErrorKind.NO_DATA,  # 30001
        "SocZek/GeefSociaalStatuut/03.00.0000/default.xml": ErrorKind.BAD_REQUEST,  # 30003
    }
    for rel, kind in cases.items():
        facts = map_facts("GeefSociaalStatuut", _answer(rel), subject="62691699717", as_of=AS_OF)
        for name, outcome in facts.items():
            assert isinstance(outcome, Unavailable), name
            assert outcome.kind == kind
            assert outcome.codes


def test_reply_level_overload_means_retry() -> None:
    rel = "Persoon/GeefPersoon/02.02.0000/91610100176.xml"
    facts = map_facts(
        "GeefPersoon",
        _answer(rel),
        subject="91610100176",
        as_of=AS_OF,
        context_errors=_reply_errors(rel),
    )
    assert {o.kind for o in facts.values() if isinstance(o, Unavailable)} == {ErrorKind.RETRY}
    assert all(isinstance(o, Unavailable) and o.retryable for o in facts.values())


def test_person_facts() -> None:
    answer = _answer("Persoon/GeefPersoon/02.02.0000/75680836687.xml")
    facts = map_facts("GeefPersoon", answer, subject="75680836687", as_of=AS_OF)
    assert facts["person.birth_date"] == Known(date(1975, 8, 8))
    assert facts["person.municipality_nis"] == Known("23077")
    assert facts["person.reference_address"] == Known(False)


def test_partial_birth_date_is_unknown() -> None:
    answer = _answer("Persoon/GeefPersoon/02.02.0000/00600099536.xml")
    outcome = map_facts(
        "GeefPersoon", answer, subject="00600099536", as_of=AS_OF, wanted=["person.birth_date"]
    )["person.birth_date"]
    assert isinstance(outcome, Unavailable) and outcome.kind == ErrorKind.NO_DATA
    assert "partly known" in outcome.reason
    assert "2000-00-00" not in outcome.reason  # reasons reach stored decisions: no personal data


def test_household_reference_address_comes_from_the_reference_person() -> None:
    answer = _answer("Persoon/GeefPersoon/02.02.0000/80642515955.xml")
    assert answer is not None
    both = map_facts(
        "GeefPersoon",
        answer,
        subject=str(answer.insz),
        as_of=AS_OF,
        wanted=["person.reference_address", "household.reference_address"],
    )
    assert both["household.reference_address"] == both["person.reference_address"]


def test_reference_address_follows_its_period() -> None:
    open_ended = _answer("Persoon/GeefPersoon/02.02.0000/80642515955.xml")
    ended = _answer("Persoon/GeefPersoon/02.02.0000/75721232239.xml")
    outcomes = []
    for answer in (open_ended, ended):
        assert answer is not None
        period = answer.facts["address"]["reference_address_period"]
        outcome = map_facts(
            "GeefPersoon",
            answer,
            subject=str(answer.insz),
            as_of=AS_OF,
            wanted=["person.reference_address"],
        )["person.reference_address"]
        assert isinstance(outcome, Known)
        outcomes.append((period["end"] is None, outcome.value))
    assert sorted(outcomes) == [(False, False), (True, True)]


def test_residence_abroad_is_not_a_belgian_municipality() -> None:
    answer = _answer("Persoon/GeefPersoon/02.02.0000/00630299891.xml")
    assert answer is not None and answer.facts["abroad"] is not None
    outcome = map_facts(
        "GeefPersoon",
        answer,
        subject="00630299891",
        as_of=AS_OF,
        wanted=["person.municipality_nis"],
    )["person.municipality_nis"]
    assert isinstance(outcome, Known) and outcome.value == ABROAD


def test_taxable_income_in_cents_of_the_latest_year() -> None:
    answer = _answer("Inkomen/GeefAanslagbiljetPersonenbelasting/02.00.0000/62691699717.xml")
    outcome = map_facts(
        "GeefAanslagbiljetPersonenbelasting", answer, subject="62691699717", as_of=AS_OF
    )["person.taxable_income"]
    assert outcome == Known(3758645, "A7555, income year 2022")

    older = _answer("Inkomen/GeefAanslagbiljetPersonenbelasting/02.00.0000/00610122309.xml")
    not_yet = _answer("Inkomen/GeefAanslagbiljetPersonenbelasting/02.00.0000/notfound.xml")
    assert older is not None and older.facts["income_year"] == 2011
    both = map_facts(
        "GeefAanslagbiljetPersonenbelasting",
        [older, answer, not_yet],  # type: ignore[list-item]
        subject="62691699717",
        as_of=AS_OF,
    )["person.taxable_income"]
    assert isinstance(both, Known) and "2022" in str(both.detail)


def test_taxable_income_does_not_fall_back_when_a_newer_year_failed() -> None:
    older = _answer("Inkomen/GeefAanslagbiljetPersonenbelasting/02.00.0000/00610122309.xml")
    failed = Answer(
        referte="x",
        insz=None,
        has_content=False,
        facts={},
        errors=(Uitzondering("60006", ErrorKind.RETRY, "Geen antwoord van bron ontvangen"),),
    )
    outcome = map_facts(
        "GeefAanslagbiljetPersonenbelasting",
        [older, failed],  # type: ignore[list-item]
        subject="00610122309",
        as_of=AS_OF,
    )["person.taxable_income"]
    assert isinstance(outcome, Unavailable) and outcome.kind == ErrorKind.RETRY


def test_taxable_income_unavailable() -> None:
    folder = "Inkomen/GeefAanslagbiljetPersonenbelasting/02.00.0000/"
    for name, kind in {
        "notfound.xml": ErrorKind.NO_DATA,
        "70021500159.xml": ErrorKind.BAD_REQUEST,
        # only a partner item (B7555) for a titular: no value rather than a guess
        "75663046194.xml": ErrorKind.NO_DATA,
    }.items():
        rel = folder + name
        outcome = map_facts(
            "GeefAanslagbiljetPersonenbelasting", _answer(rel), subject="62691699717", as_of=AS_OF
        )["person.taxable_income"]
        assert isinstance(outcome, Unavailable) and outcome.kind == kind, rel


def test_household_facts() -> None:
    answer = _answer("Persoon/GeefGezinssamenstelling/02.02.0000/62680599650.xml")
    assert answer is not None
    facts = map_facts("GeefGezinssamenstelling", answer, subject="62680599650", as_of=AS_OF)
    assert facts["person.position_code"] == Known("02")
    assert facts["household.collective"] == Known(False)
    assert facts["household.size"] == Known(2)
    assert facts["household.members"] == Known(
        (
            {"insz": "57611399743", "position_code": "01"},
            {"insz": "62680599650", "position_code": "02"},
        )
    )
    # the household lives in Den Haag: no Belgian NIS code and no country code → unknown
    nis = facts["household.municipality_nis"]
    assert isinstance(nis, Unavailable) and nis.kind == ErrorKind.NO_DATA
    assert "household.reference_address" not in facts  # from GeefPersoon of the reference person


def test_a_composition_gives_each_members_own_residence() -> None:
    """GeefGezinssamenstelling lists every member's main residence: the residence it gives for a
    member is the one GeefPersoon gives for that person; no residence in the answer (or a person
    not in the household) stays unknown, never a municipality."""
    composition = _answer("Persoon/GeefGezinssamenstelling/02.02.0000/62680599848.xml")
    wanted = ["person.municipality_nis"]
    residences = {
        insz: map_facts(
            "GeefGezinssamenstelling", composition, subject=insz, as_of=AS_OF, wanted=wanted
        )
        for insz in ("57611399743", "62680599848", "12660199775")
    }
    assert all(r == {"person.municipality_nis": Known("24055")} for r in residences.values())
    person = _answer("Persoon/GeefPersoon/02.02.0000/57611399743.xml")
    from_person = map_facts(
        "GeefPersoon", person, subject="57611399743", as_of=AS_OF, wanted=wanted
    )
    assert from_person == residences["57611399743"]
    outsider = map_facts(
        "GeefGezinssamenstelling",
        composition,
        subject="62691699717",
        as_of=AS_OF,
        wanted=["person.municipality_nis"],
    )["person.municipality_nis"]
    assert isinstance(outsider, Unavailable) and outsider.kind == ErrorKind.NO_DATA
    history = _answer("Persoon/GeefHistoriekGezinssamenstelling/02.02.0000/00631499723.xml")
    with pytest.raises(KeyError):  # the history lists no addresses
        map_facts(
            "GeefHistoriekGezinssamenstelling",
            history,
            subject="00631499723",
            as_of=AS_OF,
            wanted=["person.municipality_nis"],
        )


def test_household_history_gives_the_household_facts() -> None:
    answer = _answer("Persoon/GeefHistoriekGezinssamenstelling/02.02.0000/00631499723.xml")
    facts = map_facts(
        "GeefHistoriekGezinssamenstelling", answer, subject="00631499723", as_of=AS_OF
    )
    assert facts["person.position_code"] == Known("01")
    assert facts["household.size"] == Known(1)


def test_subject_not_in_household() -> None:
    answer = _answer("Persoon/GeefGezinssamenstelling/02.02.0000/62680599650.xml")
    outcome = map_facts(
        "GeefGezinssamenstelling",
        answer,
        subject="62691699717",
        as_of=AS_OF,
        wanted=["person.position_code"],
    )["person.position_code"]
    assert isinstance(outcome, Unavailable) and outcome.kind == ErrorKind.NO_DATA


def test_no_answer_at_all_is_no_data() -> None:
    facts = map_facts("GeefPersoon", None, subject="62691699717", as_of=AS_OF)
    assert all(isinstance(o, Unavailable) and o.kind == ErrorKind.NO_DATA for o in facts.values())


def test_facts_of_another_service_are_refused() -> None:
    with pytest.raises(KeyError):
        map_facts(
            "GeefPersoon", None, subject="62691699717", as_of=AS_OF, wanted=["person.leefloon"]
        )
    assert facts_for_service("GeefDossierHandicap") == ()
    assert "person.position_code" in facts_for_service("GeefHistoriekGezinssamenstelling")
