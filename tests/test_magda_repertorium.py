"""Repertorium.RegistreerInschrijving 02.00/02.01 and RegistreerUitschrijving 02.00: the requests
validate against MAGDA's XSDs and follow the templates; every mock reply parses, typed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from lxml import etree  # type: ignore[import-untyped,unused-ignore]

from entitle.sources.magda import build_request, parse_response
from entitle.sources.magda.repertorium import (
    INSCRIPTION_FAILED,
    InschrijvingCriteria,
    InschrijvingV0201Criteria,
    UitschrijvingCriteria,
    inscription_criteria,
)

MOCK = Path(__file__).resolve().parents[2] / "shared" / "magda-mock"
INSZ = "62691699717"
START, END = date(2026, 1, 1), date(2026, 12, 31)
WHO = {"consumer": "gent.be/entitle", "capacity": "ipdc2858"}

CASES = {
    ("RegistreerInschrijving", "02.00.0000"): (
        InschrijvingCriteria(INSZ, start=START, end=END, **WHO),
        "RegistreerInschrijvingDienst-02.00/WebService/RegistreerInschrijving.xsd",
    ),
    ("RegistreerInschrijving", "02.01.0000"): (
        InschrijvingV0201Criteria(INSZ, start=START, end=END, **WHO),
        "RegistreerInschrijvingDienst-02.01/WebService/RegistreerInschrijving.xsd",
    ),
    ("RegistreerUitschrijving", "02.00.0000"): (
        UitschrijvingCriteria(INSZ, **WHO),
        "RegistreerUitschrijvingDienst-02.00/WebService/RegistreerUitschrijving.xsd",
    ),
}


def _operation(xml: bytes) -> etree._Element:
    return etree.fromstring(xml).find(".//{*}Body")[0]


def _needs_mock() -> None:
    if not (MOCK / "xsd").is_dir():
        pytest.skip("MAGDA mock not found")


@pytest.mark.parametrize("key", sorted(CASES))
def test_request_validates_against_magda_xsd(key: tuple[str, str]) -> None:
    _needs_mock()
    criteria, xsd = CASES[key]
    schema = etree.XMLSchema(etree.parse(str(MOCK / "xsd" / "requests" / xsd)))
    built = build_request([criteria], sender="gent.be/entitle", capacity="ipdc2858")
    operation = _operation(built.xml)
    assert schema.validate(operation), schema.error_log.last_error
    assert operation.findtext("Verzoek/Context/Versie") == key[1]
    assert etree.QName(operation).namespace == criteria.service.namespace


@pytest.mark.parametrize("key", sorted(CASES))
def test_request_element_paths_match_the_template(key: tuple[str, str]) -> None:
    _needs_mock()
    criteria, _ = CASES[key]
    template = etree.parse(str(MOCK / "requests" / key[0] / key[1] / "template.xml")).getroot()
    ours = etree.fromstring(build_request([criteria], sender="s", capacity="c").xml)

    def paths(root: etree._Element) -> list[str]:
        skip = {"Gebruiker"}  # the template's optional end user; Entitle sends none
        return [
            root.getroottree().getpath(e)
            for e in root.iter()
            if isinstance(e.tag, str) and etree.QName(e).localname not in skip
        ]

    assert paths(ours) == paths(template)


def test_values_in_the_inscription() -> None:
    built = build_request(
        [CASES[("RegistreerInschrijving", "02.00.0000")][0]], sender="s", capacity="c"
    )
    inschrijving = _operation(built.xml).find("Verzoek/Vragen/Vraag/Inhoud/Inschrijving")
    assert inschrijving.findtext("Identificatie") == "gent.be/entitle"
    assert inschrijving.findtext("Hoedanigheid") == "ipdc2858"
    assert inschrijving.findtext("INSZ") == INSZ
    assert inschrijving.findtext("Periode/Begin") == "2026-01-01"
    assert inschrijving.findtext("Periode/Einde") == "2026-12-31"
    v0201 = build_request(
        [CASES[("RegistreerInschrijving", "02.01.0000")][0]], sender="s", capacity="c"
    )
    subject = _operation(v0201.xml).find(".//BetrokkenSubject/Subjecten/Subject")
    assert (subject.findtext("Type"), subject.findtext("Sleutel")) == ("PERS", INSZ)


def test_one_question_per_request() -> None:
    criteria = CASES[("RegistreerInschrijving", "02.00.0000")][0]
    with pytest.raises(ValueError, match="at most 1"):
        build_request([criteria, criteria], sender="s", capacity="c")


def test_the_version_setting_chooses_the_builder() -> None:
    assert type(inscription_criteria("02.01.0000", INSZ, start=START, end=END, **WHO)) is (
        InschrijvingV0201Criteria
    )
    assert type(inscription_criteria("02.00.0000", INSZ, start=START, end=END, **WHO)) is (
        InschrijvingCriteria
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start": END, "end": START},
        {"start": START},
        {"start": START, "end": END, "consumer": ""},
    ],
)
def test_bad_inscription_criteria(kwargs: dict[str, object]) -> None:
    args = {**WHO, **kwargs}
    with pytest.raises(ValueError):
        InschrijvingCriteria(INSZ, **args)  # type: ignore[arg-type]


def _replies() -> list[Path]:
    return sorted((MOCK / "responses" / "Repertorium").rglob("*.xml"))


@pytest.mark.parametrize("path", _replies(), ids=lambda p: "/".join(p.parts[-3:]))
def test_every_mock_reply_parses_typed(path: Path) -> None:
    response = parse_response(path.read_bytes())
    assert response.service is not None
    assert response.service.domain == "Repertorium"
    assert response.service.version == response.version
    text = path.read_text(encoding="utf-8")
    if "99996" in text:
        assert response.outcome == "retry"
    elif 'Beschrijving="Wel geslaagd">1<' in text:
        assert response.outcome == "ok"
        assert response.answers[0].facts == {"result": 1, "description": "Wel geslaagd"}
    else:
        assert 'Beschrijving="Niet geslaagd">0<' in text
        assert response.outcome == "error"
        assert [e.code for e in response.all_errors] == [INSCRIPTION_FAILED]


def test_the_mock_has_replies_of_each_operation() -> None:
    if not _replies():
        pytest.skip("MAGDA mock not found")
    versions = {
        (
            parse_response(p.read_bytes()).service.naam,
            p.relative_to(MOCK / "responses" / "Repertorium").parts[1],
        )
        for p in _replies()
    }  # type: ignore[union-attr]
    assert versions == {
        ("RegistreerInschrijving", "02.00.0000"),
        ("RegistreerInschrijving", "02.01.0000"),
        ("RegistreerUitschrijving", "02.00.0000"),
    }
