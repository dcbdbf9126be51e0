"""Request builders: the envelope of ../shared/magda-mock/requests/*/*/template.xml, batching."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from pathlib import Path

import pytest
from lxml import etree  # type: ignore[import-untyped,unused-ignore]

from entitle.insz import InvalidInszError, make_insz
from entitle.sources.magda import (
    MAX_QUESTIONS,
    AanslagbiljetCriteria,
    Criteria,
    DossierHandicapCriteria,
    GezinssamenstellingCriteria,
    HistoriekGezinssamenstellingCriteria,
    HistoriekInschrijvingCriteria,
    LeefloonbedragenCriteria,
    PersoonCriteria,
    SociaalStatuutCriteria,
    batched,
    build_request,
    build_requests,
)

MOCK = Path(__file__).resolve().parents[2] / "shared" / "magda-mock"
REQUESTS = MOCK / "requests"

INSZ = "62691699717"  # a MAGDA test number
DAY = date(2025, 1, 1)
NOW = datetime(2025, 1, 1, 12, 0, 0, 123000)


def _paths(root: etree._Element) -> list[tuple[str, tuple[str, ...]]]:
    """Every element in document order: its path of (namespace-qualified) names and attributes."""
    out: list[tuple[str, tuple[str, ...]]] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        names = []
        node = element
        while node is not None:
            names.append(node.tag)
            node = node.getparent()
        out.append(("/".join(reversed(names)), tuple(sorted(element.attrib))))
    return out


CASES: dict[str, Criteria] = {
    "GeefPersoon": PersoonCriteria(INSZ),
    "GeefHistoriekGezinssamenstelling": HistoriekGezinssamenstellingCriteria(INSZ, on=DAY),
    "GeefAanslagbiljetPersonenbelasting": AanslagbiljetCriteria(
        INSZ, income_year=2011, ipcal_codes=("7555", "7557")
    ),
    "GeefSociaalStatuut": SociaalStatuutCriteria(
        INSZ, statuses=("BIM_BVT",), on=DAY, location="Gent"
    ),
    "GeefDossierHandicap": DossierHandicapCriteria(INSZ, reference_date=DAY),
    "GeefLeefloonbedragen": LeefloonbedragenCriteria(INSZ, year=2025, years_back=2),
    "Onderwijs.GeefHistoriekInschrijving": HistoriekInschrijvingCriteria(
        INSZ, start=date(2015, 1, 1), end=date(2016, 6, 30)
    ),
}


def test_every_template_of_our_services_is_covered() -> None:
    if not REQUESTS.is_dir():
        pytest.skip("MAGDA mock requests not found")
    templates = {p.parent.parent.name for p in REQUESTS.glob("*/*/template.xml")}
    # the Repertorium templates are covered by tests/test_magda_repertorium.py
    registrations = {"RegistreerInschrijving", "RegistreerUitschrijving"}
    assert set(CASES) == templates - {"ZoekPersoonOpAdres"} - registrations


@pytest.mark.parametrize("service", sorted(CASES))
def test_request_element_paths_match_the_template(service: str) -> None:
    templates = list((REQUESTS / service).glob("*/template.xml"))
    if not templates:
        pytest.skip("MAGDA mock requests not found")
    template = etree.parse(str(templates[0])).getroot()
    criteria = CASES[service]
    built = build_request([criteria], sender="gent.be/entitle", capacity="ipdc2858", now=NOW)
    ours = etree.fromstring(built.xml)
    assert _paths(ours) == _paths(template)
    # version folder, Naam and Versie as in the template
    assert ours.findtext(".//Verzoek/Context/Naam") == template.findtext(".//Verzoek/Context/Naam")
    assert ours.findtext(".//Verzoek/Context/Versie") == templates[0].parent.name
    assert criteria.service.version == templates[0].parent.name


@pytest.mark.parametrize("service", sorted(CASES))
def test_context_and_question_values(service: str) -> None:
    built = build_request([CASES[service]], sender="gent.be/entitle", capacity="ipdc2858", now=NOW)
    root = etree.fromstring(built.xml)
    bericht = root.find(".//Verzoek/Context/Bericht")
    assert bericht.findtext("Type") == "VRAAG"
    assert bericht.findtext("Tijdstip/Datum") == "2025-01-01"
    assert bericht.findtext("Tijdstip/Tijd") == "12:00:00.123"
    assert bericht.findtext("Afzender/Identificatie") == "gent.be/entitle"
    assert bericht.findtext("Afzender/Hoedanigheid") == "ipdc2858"
    assert uuid.UUID(bericht.findtext("Afzender/Referte")) == uuid.UUID(built.referte)
    vraag_refs = [v.findtext("Referte") for v in root.iterfind(".//Vragen/Vraag")]
    assert vraag_refs == [q.referte for q in built.questions]
    assert all(uuid.UUID(r) for r in vraag_refs)
    insz = root.xpath(".//Vraag//INSZ/text() | .//Vraag//ssin/text()")
    assert insz == [INSZ]


def test_each_request_gets_fresh_references() -> None:
    a = build_request([CASES["GeefPersoon"]], sender="s", capacity="c")
    b = build_request([CASES["GeefPersoon"]], sender="s", capacity="c")
    assert a.referte != b.referte
    assert a.questions[0].referte != b.questions[0].referte


def test_social_status_over_a_period_and_several_statuses() -> None:
    criteria = SociaalStatuutCriteria(
        INSZ, statuses=("BIM_BVT", "GENT_PARKING_ADULT"), start=date(2024, 1, 1), end=DAY
    )
    root = etree.fromstring(build_request([criteria], sender="s", capacity="c").xml)
    statuten = root.findall(".//Criteria/SocialeStatuten/SociaalStatuut")
    assert [s.findtext("Naam") for s in statuten] == ["BIM_BVT", "GENT_PARKING_ADULT"]
    for statuut in statuten:
        assert statuut.findtext("Datum/Periode/Begindatum") == "2024-01-01"
        assert statuut.findtext("Datum/Periode/Einddatum") == "2025-01-01"
        assert statuut.find("Datum/Datum") is None
        assert statuut.find("Locatie") is None


def test_household_composition_request() -> None:
    root = etree.fromstring(
        build_request([GezinssamenstellingCriteria(INSZ)], sender="s", capacity="c").xml
    )
    operation = root.find(".//{*}Body/*")
    assert operation.tag == (
        "{http://magda.vlaanderen.be/persoon/soap/geefgezinssamenstelling/v02_02}"
        "GeefGezinssamenstelling"
    )
    assert root.findtext(".//Vraag/Inhoud/Criteria/INSZ") == INSZ
    assert root.findtext(".//Verzoek/Context/Versie") == "02.02.0000"


@pytest.mark.parametrize(
    "make",
    [
        lambda: PersoonCriteria("12345678901"),
        lambda: PersoonCriteria("6269169971"),
        lambda: SociaalStatuutCriteria(INSZ, statuses=(), on=DAY),
        lambda: SociaalStatuutCriteria(INSZ, statuses=("BIM_BVT",)),
        lambda: SociaalStatuutCriteria(INSZ, statuses=("BIM_BVT",), on=DAY, start=DAY),
        lambda: SociaalStatuutCriteria(INSZ, statuses=("BIM_BVT",), end=DAY),
        lambda: AanslagbiljetCriteria(INSZ),
        lambda: HistoriekInschrijvingCriteria(INSZ, start=DAY, end=date(2024, 1, 1)),
    ],
)
def test_invalid_criteria_are_refused(make: object) -> None:
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]


def test_invalid_insz_raises_the_insz_error() -> None:
    with pytest.raises(InvalidInszError):
        PersoonCriteria("62691699718")


def test_insz_is_normalised() -> None:
    assert PersoonCriteria("62.69.16-997.17").insz == INSZ


def _people(n: int) -> list[str]:
    return [make_insz(date(1980, 1, 1 + i % 28), 1 + i, kind="test").normalized for i in range(n)]


def test_at_most_five_questions_per_request() -> None:
    people = _people(6)
    with pytest.raises(ValueError, match="at most 5"):
        build_request([PersoonCriteria(p) for p in people], sender="s", capacity="c")
    with pytest.raises(ValueError):
        build_request([], sender="s", capacity="c")
    with pytest.raises(ValueError, match="one service"):
        build_request(
            [PersoonCriteria(people[0]), GezinssamenstellingCriteria(people[1])],
            sender="s",
            capacity="c",
        )


@pytest.mark.parametrize("n", [1, 4, 5, 6, 10, 11, 23])
def test_batching_many_insz(n: int) -> None:
    people = _people(n)
    requests = build_requests(
        (SociaalStatuutCriteria(p, statuses=("BIM_BVT",), on=DAY) for p in people),
        sender="s",
        capacity="c",
    )
    assert len(requests) == -(-n // MAX_QUESTIONS)
    assert all(1 <= len(r.questions) <= MAX_QUESTIONS for r in requests)
    asked = [q.criteria.insz for r in requests for q in r.questions]
    assert asked == people
    for request in requests:
        root = etree.fromstring(request.xml)
        assert len(root.findall(".//Vragen/Vraag")) == len(request.questions) <= 5
    assert len({r.referte for r in requests}) == len(requests)


def test_batching_keeps_services_apart_and_can_be_smaller() -> None:
    people = _people(7)
    criteria: list[Criteria] = [PersoonCriteria(p) for p in people]
    criteria += [GezinssamenstellingCriteria(p) for p in people[:3]]
    requests = build_requests(criteria, sender="s", capacity="c", max_questions=3)
    assert [(r.service.naam, len(r.questions)) for r in requests] == [
        ("GeefPersoon", 3),
        ("GeefPersoon", 3),
        ("GeefPersoon", 1),
        ("GeefGezinssamenstelling", 3),
    ]
    # never above MAGDA's limit, whatever is asked
    assert all(
        len(r.questions) <= 5
        for r in build_requests(criteria, sender="s", capacity="c", max_questions=50)
    )


def test_batched() -> None:
    assert batched(range(7), 3) == [[0, 1, 2], [3, 4, 5], [6]]
    assert batched([], 5) == []
    with pytest.raises(ValueError):
        batched([1], 0)
