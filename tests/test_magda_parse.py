"""The MAGDA reply parser against every mock message in ../shared/magda-mock/responses.

Facts and error codes are extracted a second time here with plain XPath and compared."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from lxml import etree  # type: ignore[import-untyped,unused-ignore]

from entitle.sources.magda import (
    ErrorKind,
    MagdaParseError,
    NotMagdaResponseError,
    UnsupportedServiceError,
    classify,
    parse_response,
)
from entitle.sources.magda.errors import KNOWN_CODES
from entitle.sources.magda.repertorium import INSCRIPTION_FAILED as RESULTAAT_FAILED

MOCK = Path(__file__).resolve().parents[2] / "shared" / "magda-mock"
RESPONSES = MOCK / "responses"
if not RESPONSES.is_dir():
    pytest.skip(f"MAGDA mock messages not found at {MOCK}", allow_module_level=True)

FILES = sorted(RESPONSES.rglob("*.xml"))


def _rel(path: Path) -> str:
    return str(path.relative_to(RESPONSES))


def _tree(path: Path) -> etree._Element:
    return etree.parse(str(path)).getroot()


def _x(root: etree._Element, xpath: str) -> list[str]:
    return [str(v).strip() for v in root.xpath(xpath)]


def _service_dir(path: Path) -> str:
    return path.relative_to(RESPONSES).parts[1]


def test_there_are_mock_files_for_every_service_read() -> None:
    services = {_service_dir(p) for p in FILES}
    assert services == {
        "GeefPersoon",
        "GeefGezinssamenstelling",
        "GeefHistoriekGezinssamenstelling",
        "GeefAanslagbiljetPersonenbelasting",
        "GeefSociaalStatuut",
        "GeefDossierHandicap",
        "GeefLeefloonbedragen",
        "GeefHistoriekInschrijving",
        "GeefPersoonMutatiesNotificaties",
        "RegistreerInschrijving",  # the Repertorium: tests/test_magda_repertorium.py
        "RegistreerUitschrijving",
    }
    assert len(FILES) > 500


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_every_mock_reply_parses_and_matches_the_xml(path: Path) -> None:
    data = path.read_bytes()
    response = parse_response(data, service_hint=_service_dir(path))
    root = _tree(path)
    assert response.service is not None
    assert response.service.naam == _service_dir(path)
    if response.fault is not None:
        assert _x(root, "//faultstring/text()") == [response.fault.message]
        return
    assert _x(root, "/*/Repliek/Context/Naam/text()") == [response.service.naam]
    assert _x(root, "/*/Repliek/Context/Versie/text()") == [response.version]
    assert len(response.answers) == len(root.xpath("/*/Repliek/Antwoorden/Antwoord"))
    # every exception of the message is there, with its level, and nothing else
    expected = Counter(_x(root, "//Uitzondering/Identificatie/text()"))
    expected.update(
        c for c in _x(root, "//ConsultFilesByDateResponse//status/code/text()") if c != "MSG00000"
    )
    # a Repertorium "Niet geslaagd" (Resultaat 0) comes without an Uitzondering: Entitle types it
    expected.update(RESULTAAT_FAILED for _ in root.xpath("//Inhoud/Resultaat[text()='0']"))
    assert Counter(e.code for e in response.all_errors) == expected
    reply_level = Counter(_x(root, "/*/Repliek/Uitzonderingen/Uitzondering/Identificatie/text()"))
    assert Counter(e.code for e in response.errors) == reply_level
    for error in response.all_errors:
        assert error.kind == classify(error.code, error.severity, error.diagnosis)
    for answer, element in zip(
        response.answers, root.xpath("/*/Repliek/Antwoorden/Antwoord"), strict=True
    ):
        assert answer.referte == (_x(element, "Referte/text()") or [None])[0]
        if not element.xpath("Inhoud"):
            assert not answer.has_content
            assert answer.facts == {}


def _one(response_path: str) -> tuple[etree._Element, dict[str, object], str | None]:
    path = RESPONSES / response_path
    response = parse_response(path.read_bytes())
    assert len(response.answers) == 1
    return _tree(path), response.answers[0].facts, response.answers[0].insz


def _files(service: str) -> list[Path]:
    return [p for p in FILES if _service_dir(p) == service]


@pytest.mark.parametrize("path", _files("GeefSociaalStatuut"), ids=_rel)
def test_social_statuses_match_the_xml(path: Path) -> None:
    root, facts, insz = _one(_rel(path))
    if not root.xpath("//Inhoud"):
        return
    expected: dict[str, bool] = {}
    for statuut in root.xpath("//SocialeStatuten/SociaalStatuut"):
        expected[_x(statuut, "Naam/text()")[0]] = _x(statuut, "Resultaat/Code/text()") == ["1"]
    assert facts["statuses"] == expected
    assert insz == _x(root, "//Inhoud/Persoon/INSZ/text()")[0]


@pytest.mark.parametrize("path", _files("GeefAanslagbiljetPersonenbelasting"), ids=_rel)
def test_tax_assessment_year_and_items_match_the_xml(path: Path) -> None:
    response = parse_response(path.read_bytes(), service_hint="GeefAanslagbiljetPersonenbelasting")
    root = _tree(path)
    if not root.xpath("//Inhoud"):
        assert all(not a.has_content for a in response.answers)
        return
    facts = response.answers[0].facts
    assert facts["income_year"] == int(
        _x(root, "//AanslagbiljetPersonenbelasting/Inkomensjaar/text()")[0]
    )
    items = {
        _x(i, "Code/text()")[0]: _x(i, "Waarde/text()")[0]
        for i in root.xpath("//AanslagbiljetPersonenbelasting/Items/Item")
    }
    assert facts["items"] == items
    assert response.answers[0].insz == _x(root, "//GevraagdePersoon/INSZ/text()")[0]


@pytest.mark.parametrize("path", _files("GeefGezinssamenstelling"), ids=_rel)
def test_household_members_match_the_xml(path: Path) -> None:
    root, facts, _ = _one(_rel(path))
    if not root.xpath("//Inhoud"):
        assert facts == {}
        return
    expected = [
        {"insz": _x(m, "INSZ/text()")[0], "position_code": _x(m, "Positie/Code/text()")[0]}
        for m in root.xpath("//Gezinsleden/Gezinslid")
    ]
    members = facts["members"]
    assert isinstance(members, list)
    assert [{"insz": m["insz"], "position_code": m["position_code"]} for m in members] == expected
    assert facts["size"] == len(expected)
    assert facts["collective"] == any(m["position_code"] == "20" for m in expected)


@pytest.mark.parametrize("path", _files("GeefHistoriekGezinssamenstelling"), ids=_rel)
def test_household_history_matches_the_xml(path: Path) -> None:
    response = parse_response(path.read_bytes())
    root = _tree(path)
    if not response.answers:
        assert [e.code for e in response.errors] == ["99996"]
        assert response.errors[0].kind == ErrorKind.RETRY
        return
    facts = response.answers[0].facts
    compositions = root.xpath("//HistoriekGezinssamenstelling/Gezinssamenstelling")
    assert len(facts["compositions"]) == len(compositions)
    last = compositions[-1]
    assert [m["insz"] for m in facts["members"]] == _x(last, "Gezinsleden/Gezinslid/INSZ/text()")


@pytest.mark.parametrize("path", _files("GeefPersoon"), ids=_rel)
def test_person_birth_date_and_municipality_match_the_xml(path: Path) -> None:
    response = parse_response(path.read_bytes())
    root = _tree(path)
    if not root.xpath("//Inhoud"):
        assert all(not a.has_content for a in response.answers)
        return
    facts, insz = response.answers[0].facts, response.answers[0].insz
    assert facts["birth_date"] == _x(root, "//Inhoud/Persoon/Geboorte/Datum/text()")[0]
    assert insz == _x(root, "//Inhoud/Persoon/INSZ/text()")[0]
    nis = _x(root, "//Persoon/Adressen/Hoofdverblijfplaats/NISCodeGemeente/text()")
    assert facts["municipality_nis"] == (nis[0] if nis else None)
    place = "//Persoon/Adressen/Hoofdverblijfplaats/"
    names = _x(root, place + "Gemeentenaam/String/text()")
    names += _x(root, place + "NietGestandaardiseerdeGemeentenaam/String/text()")
    assert facts["municipality"] == (names[0] if names else None)
    reference = root.xpath(place + "ReferentieAdres")
    if root.xpath("//Persoon/Adressen/Hoofdverblijfplaats"):
        assert facts["reference_address"] is bool(reference)


@pytest.mark.parametrize("path", _files("GeefDossierHandicap"), ids=_rel)
def test_disability_sources_match_the_xml(path: Path) -> None:
    root, facts, insz = _one(_rel(path))
    sources = facts["sources"]
    assert isinstance(sources, dict)
    expected = {
        etree.QName(r).localname.removesuffix("Result"): _x(r, "status/code/text()")[0]
        for r in root.xpath("//ConsultFilesByDateResponse/results/*")
    }
    assert {name: s["code"] for name, s in sources.items()} == expected
    cards = _x(root, "//socialCard/cardCategory/text()")
    assert [c["category"] for c in facts["social_cards"]] == cards  # type: ignore[attr-defined]
    assert facts["parking_card"] == ("PARKINGCARD" in cards)
    ssin = _x(root, "//ConsultFilesByDateResponse/ssin/text()")
    assert insz == (ssin[0] if ssin else None)


@pytest.mark.parametrize("path", _files("GeefLeefloonbedragen"), ids=_rel)
def test_leefloon_years_match_the_xml(path: Path) -> None:
    response = parse_response(path.read_bytes())
    root = _tree(path)
    if not response.answers:
        assert response.errors and all(e.kind == ErrorKind.RETRY for e in response.errors)
        return
    facts = response.answers[0].facts
    assert [y["year"] for y in facts["years"]] == [
        int(v) for v in _x(root, "//Leefloonbedragen/Leefloonbedrag/Jaar/text()")
    ]
    months = set(_x(root, "//Maand[LeefloonPerPeriode or EquivalentLeefloonPerPeriode]/@JaarMaand"))
    assert facts["months_with_leefloon"] == sorted(months)


@pytest.mark.parametrize("path", _files("GeefHistoriekInschrijving"), ids=_rel)
def test_enrolments_match_the_xml(path: Path) -> None:
    response = parse_response(path.read_bytes())
    root = _tree(path)
    for answer, element in zip(
        response.answers, root.xpath("/*/Repliek/Antwoorden/Antwoord"), strict=True
    ):
        enrolments = element.xpath("Inhoud/Inschrijvingen/Inschrijving")
        if not element.xpath("Inhoud"):
            continue
        assert [e["source"] for e in answer.facts["enrolments"]] == [
            _x(e, "Bron/text()")[0] for e in enrolments
        ]
        assert [e["institution_number"] for e in answer.facts["enrolments"]] == [
            _x(e, "Instelling/Instellingsnummer/text()")[0] for e in enrolments
        ]


# ------------------------------------------------------------------------------------------
# classification of every exception code met in the mocks


EXPECTED_KINDS = {
    "30001": ErrorKind.NO_DATA,
    "30101": ErrorKind.NO_DATA,
    "45008": ErrorKind.NO_DATA,
    "MSG00021": ErrorKind.NO_DATA,
    "30016": ErrorKind.NO_DATA,  # no notifications waiting
    "60006": ErrorKind.RETRY,
    "99994": ErrorKind.RETRY,
    "99995": ErrorKind.RETRY,
    "99996": ErrorKind.RETRY,
    "99997": ErrorKind.RETRY,
    "20110": ErrorKind.BAD_REQUEST,
    "30003": ErrorKind.BAD_REQUEST,
    "40000": ErrorKind.BAD_REQUEST,
    "30014": ErrorKind.BAD_REQUEST,  # unknown receipt reference
    "30004": ErrorKind.INFO,
    "30042": ErrorKind.INFO,
    "99984": ErrorKind.INFO,
}


def test_every_exception_code_in_the_mocks_is_classified_explicitly() -> None:
    seen: set[str] = set()
    for path in FILES:
        root = _tree(path)
        seen.update(_x(root, "//Uitzondering/Identificatie/text()"))
        seen.update(
            c
            for c in _x(root, "//ConsultFilesByDateResponse//status/code/text()")
            if c != "MSG00000"
        )
    assert seen == set(EXPECTED_KINDS)
    for code in seen:
        assert code in KNOWN_CODES
        assert classify(code) == EXPECTED_KINDS[code], code


def test_no_data_is_never_a_no() -> None:
    for code, kind in EXPECTED_KINDS.items():
        if kind == ErrorKind.NO_DATA:
            assert kind.value == "no_data"
            assert classify(code, "FOUT", "Geen gegevens") == ErrorKind.NO_DATA


@pytest.mark.parametrize(
    ("code", "severity", "diagnosis", "kind"),
    [
        ("12345", "FOUT", "Ongeldig bericht", ErrorKind.BAD_REQUEST),
        ("31234", "FOUT", "", ErrorKind.NO_DATA),
        ("50001", "FOUT", "", ErrorKind.REFUSED),
        ("40123", "FOUT", "Afzender is niet gemachtigd voor deze hoedanigheid", ErrorKind.REFUSED),
        ("61000", "FOUT", "", ErrorKind.RETRY),
        ("99999", "FOUT", "", ErrorKind.RETRY),
        ("77777", "WAARSCHUWING", "", ErrorKind.INFO),
        ("XYZ", "FOUT", "", ErrorKind.ERROR),
    ],
)
def test_unknown_codes_fall_back_on_type_wording_and_range(
    code: str, severity: str, diagnosis: str, kind: ErrorKind
) -> None:
    assert classify(code, severity, diagnosis) == kind


def test_outcomes_of_typical_replies() -> None:
    def outcome(rel: str) -> str:
        return parse_response((RESPONSES / rel).read_bytes()).outcome

    assert outcome("Persoon/GeefPersoon/02.02.0000/notfound.xml") == "no_data"
    assert outcome("SocZek/GeefSociaalStatuut/03.00.0000/default.xml") == "bad_request"
    assert outcome("Persoon/GeefPersoon/02.02.0000/91610100176.xml") == "retry"
    assert outcome("SocZek/GeefDossierHandicap/03.00.0000/00683042157.xml") == "partial"
    assert outcome("SocZek/GeefSociaalStatuut/03.00.0000/62691699717.xml") == "ok"


# ------------------------------------------------------------------------------------------
# documents that are not MAGDA replies


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not xml at all",
        b"<html><body>502 Bad Gateway</body></html>",
        b'<?xml version="1.0"?><foo/>',
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"/>',
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        b"<soapenv:Body/></soapenv:Envelope>",
        b"<GeefPersoonResponse><Repliek/></GeefPersoonResponse>",
    ],
)
def test_non_magda_documents_raise_a_specific_error(data: bytes) -> None:
    with pytest.raises(NotMagdaResponseError):
        parse_response(data)


def test_a_request_is_not_a_reply() -> None:
    template = MOCK / "requests" / "GeefPersoon" / "02.02.0000" / "template.xml"
    with pytest.raises(NotMagdaResponseError):
        parse_response(template.read_bytes())


def test_a_reply_of_another_service_is_unsupported() -> None:
    data = (
        b'<ns:ZoekPersoonOpAdresResponse xmlns:ns="urn:x"><Repliek><Context>'
        b"<Naam>ZoekPersoonOpAdres</Naam><Versie>02.02.0000</Versie></Context></Repliek>"
        b"</ns:ZoekPersoonOpAdresResponse>"
    )
    with pytest.raises(UnsupportedServiceError):
        parse_response(data)


def test_mismatched_context_name_is_rejected() -> None:
    data = (
        b'<ns:GeefPersoonResponse xmlns:ns="urn:x"><Repliek><Context>'
        b"<Naam>GeefSociaalStatuut</Naam></Context></Repliek></ns:GeefPersoonResponse>"
    )
    with pytest.raises(NotMagdaResponseError):
        parse_response(data)


def test_an_answer_without_its_content_is_malformed() -> None:
    nothing = (
        b'<ns:GeefPersoonResponse xmlns:ns="urn:x"><Repliek><Context><Naam>GeefPersoon</Naam>'
        b"</Context><Antwoorden><Antwoord><Referte>1</Referte></Antwoord></Antwoorden>"
        b"</Repliek></ns:GeefPersoonResponse>"
    )
    no_answers = (
        b'<ns:GeefPersoonResponse xmlns:ns="urn:x"><Repliek><Context><Naam>GeefPersoon</Naam>'
        b"</Context></Repliek></ns:GeefPersoonResponse>"
    )
    for bad in (nothing, no_answers):
        with pytest.raises(MagdaParseError):
            parse_response(bad)
    data = (
        b'<ns:GeefPersoonResponse xmlns:ns="urn:x"><Repliek><Context><Naam>GeefPersoon</Naam>'
        b"<Versie>02.02.0000</Versie><Bericht><Type>ANTWOORD</Type></Bericht></Context>"
        b"<Antwoorden><Antwoord><Referte>1</Referte><Inhoud/></Antwoord></Antwoorden>"
        b"</Repliek></ns:GeefPersoonResponse>"
    )
    with pytest.raises(MagdaParseError):
        parse_response(data)


def test_replies_inside_a_soap_envelope_parse_like_bare_ones() -> None:
    path = RESPONSES / "SocZek" / "GeefSociaalStatuut" / "03.00.0000" / "62691699717.xml"
    inner = path.read_bytes().split(b"?>", 1)[1]
    wrapped = (
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        b"<soapenv:Header/><soapenv:Body>" + inner + b"</soapenv:Body></soapenv:Envelope>"
    )
    assert parse_response(wrapped).to_json() == parse_response(path.read_bytes()).to_json()


def test_soap_fault_in_an_envelope_is_typed() -> None:
    data = (
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        b"<soapenv:Body><soapenv:Fault><faultcode>soapenv:Server</faultcode>"
        b"<faultstring>boom</faultstring><detail><Reden>overload</Reden></detail>"
        b"</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    response = parse_response(data, service_hint="GeefPersoon")
    assert response.fault is not None and response.fault.detail == "overload"
    assert [(e.code, e.kind) for e in response.errors] == [("soap:Server", ErrorKind.RETRY)]
    assert response.service is not None and response.service.naam == "GeefPersoon"


def test_entities_are_not_expanded() -> None:
    data = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<ns:GeefPersoonResponse xmlns:ns="urn:x"><Repliek><Context><Naam>GeefPersoon</Naam>'
        b"</Context><Antwoorden><Antwoord><Referte>&e;</Referte><Uitzonderingen><Uitzondering>"
        b"<Identificatie>30001</Identificatie><Type>FOUT</Type></Uitzondering></Uitzonderingen>"
        b"</Antwoord></Antwoorden>"
        b"</Repliek></ns:GeefPersoonResponse>"
    )
    response = parse_response(data)
    assert response.answers[0].referte in (None, "")
