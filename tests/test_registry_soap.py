"""The registry simulator in-process (Starlette's TestClient): answers in the shapes of the MAGDA
mock messages, MAGDA's exceptions, the question limit, purpose binding, fault injection, the
admin API, the local datasets and what the logs may say.

Requests are built from the templates in ``../shared/magda-mock/requests`` with the INSZ replaced
by one of the test city's (``test_registry_city.write_city``); answers are compared with the mock
answers in ``../shared/magda-mock/responses`` by their element paths (namespace-local names).
"""

from __future__ import annotations

import copy
import functools
import io
import logging
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from lxml import etree  # type: ignore[import-untyped,unused-ignore]
from pydantic import ValidationError
from test_registry_city import City, write_city

from entitle.registry.authz import Grant
from entitle.registry.server import SimulatorConfig, create_app, load_config

with warnings.catch_warnings():  # Starlette would like httpx2; httpx is what the project uses
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

MAGDA_MOCK = Path(__file__).resolve().parents[2] / "shared" / "magda-mock"
REQUESTS = MAGDA_MOCK / "requests"
RESPONSES = MAGDA_MOCK / "responses"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
GEZIN_NS = "http://magda.vlaanderen.be/persoon/soap/geefgezinssamenstelling/v02_02"

Element = Any

COMMON_PATHS = {
    "Repliek/Context/Naam",
    "Repliek/Context/Versie",
    "Repliek/Context/Bericht/Type",
    "Repliek/Context/Bericht/Tijdstip/Datum",
    "Repliek/Context/Bericht/Tijdstip/Tijd",
    "Repliek/Context/Bericht/Afzender/Identificatie",
    "Repliek/Context/Bericht/Afzender/Referte",
    "Repliek/Context/Bericht/Ontvanger/Identificatie",
    "Repliek/Context/Bericht/Ontvanger/Referte",
    "Repliek/Context/Bericht/Ontvanger/Hoedanigheid",
    "Repliek/Antwoorden/Antwoord/Referte",
}
INHOUD = "Repliek/Antwoorden/Antwoord/Inhoud/"


@functools.cache
def template(name: str) -> Element:
    """The request template of a service (``requests/NAME/*/template.xml``), parsed."""
    if name == "GeefGezinssamenstelling":  # the mock has no template: the history one, renamed
        root = copy.deepcopy(template("GeefHistoriekGezinssamenstelling"))
        operation = body_child(root)
        operation.tag = f"{{{GEZIN_NS}}}GeefGezinssamenstelling"
        first(root, "Naam").text = "GeefGezinssamenstelling"
        datum = first(root, "Criteria").find("Datum")
        datum.getparent().remove(datum)
        return root
    (path,) = REQUESTS.glob(f"{name}/*/template.xml")
    return etree.fromstring(path.read_bytes())


def body_child(root: Element) -> Element:
    return next(iter(root.find(f"{{{SOAP_ENV}}}Body")))


def first(root: Element, name: str) -> Element:
    return next(root.iter(name))


def build_request(
    service: str,
    insz: str,
    *,
    questions: int = 1,
    sender: str | None = None,
    capacity: str | None = None,
    statuses: list[str] | None = None,
    **texts: str | None,
) -> bytes:
    """A request from the service's template: INSZ set, questions repeated with references
    q1…qN, other elements' text set by local name (None removes the element)."""
    root = copy.deepcopy(template(service))
    for element in root.iter("INSZ", "ssin"):
        element.text = insz
    if sender is not None:
        first(root, "Afzender").find("Identificatie").text = sender
    if capacity is not None:
        first(root, "Afzender").find("Hoedanigheid").text = capacity
    if statuses is not None:
        container = first(root, "SocialeStatuten")
        model = container[0]
        for old in list(container):
            container.remove(old)
        for name in statuses:
            statuut = copy.deepcopy(model)
            statuut.find("Naam").text = name
            container.append(statuut)
    for name, text in texts.items():
        for element in list(root.iter(name)):
            if text is None:
                element.getparent().remove(element)
            else:
                element.text = text
    vragen = first(root, "Vragen")
    model = vragen[0]
    for old in list(vragen):
        vragen.remove(old)
    for number in range(1, questions + 1):
        vraag = copy.deepcopy(model)
        vraag.find("Referte").text = f"q{number}"
        vragen.append(vraag)
    return bytes(etree.tostring(root))


def reply(response: Any) -> Element:
    """The Body's content of a SOAP reply (the ``…Response`` element or a Fault)."""
    return body_child(etree.fromstring(response.content))


def paths(root: Element) -> set[str]:
    """Every element path under root, as namespace-local names joined by '/'."""
    found: set[str] = set()

    def walk(element: Element, prefix: str) -> None:
        for node in element:
            if isinstance(node.tag, str):
                path = f"{prefix}{etree.QName(node).localname}"
                found.add(path)
                walk(node, path + "/")

    walk(root, "")
    return found


@functools.cache
def mock_answers(service: str) -> tuple[Element, ...]:
    folders = RESPONSES.glob(f"*/{service.split('.')[-1]}/*")  # a version folder each
    roots = []
    for path in sorted(p for folder in folders for p in folder.rglob("*.xml")):
        try:
            roots.append(etree.parse(str(path)).getroot())
        except etree.XMLSyntaxError:  # the mock has one deliberately broken message
            continue
    return tuple(roots)


@functools.cache
def mock_paths(service: str) -> frozenset[str]:
    return frozenset(p for root in mock_answers(service) for p in paths(root))


@functools.cache
def mock_exception_paths() -> frozenset[str]:
    """Paths of Uitzonderingen in any service's mock answers (their shape is shared)."""
    every = {p for folder in RESPONSES.glob("*/*") for p in mock_paths(folder.name)}
    return frozenset(p for p in every if "Uitzondering" in p)


def exceptions(root: Element) -> list[tuple[str, str, str, str, str | None]]:
    """(level, code, origin, type, circumstance) of every Uitzondering; level Repliek/Antwoord."""
    found = []
    for element in root.iter("Uitzondering"):
        level = element.getparent().getparent().tag
        found.append(
            (
                level,
                element.findtext("Identificatie"),
                element.findtext("Oorsprong"),
                element.findtext("Type"),
                element.findtext("Omstandigheid"),
            )
        )
    return found


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    return write_city(tmp_path_factory.mktemp("city"))


@pytest.fixture(scope="module")
def client(city: City) -> Iterator[TestClient]:
    """A development-mode simulator: no authorisation matrix, no faults."""
    with TestClient(create_app(city.path)) as test_client:
        yield test_client


@pytest.fixture
def make_client(city: City) -> Callable[[dict[str, Any]], TestClient]:
    def make(config: dict[str, Any]) -> TestClient:
        return TestClient(create_app(city.path, SimulatorConfig.model_validate(config)))

    return make


# --- every template, the mock's shapes ----------------------------------------------------------

# template → (who is asked, other criteria, paths the answer must have under Inhoud)
TEMPLATE_CASES: dict[str, tuple[str, dict[str, Any], set[str]]] = {
    "GeefPersoon": (
        "ref",
        {},
        {
            "Persoon/INSZ",
            "Persoon/Naam/Achternamen/Achternaam",
            "Persoon/Naam/Voornamen/Voornaam",
            "Persoon/Geslacht/Code",
            "Persoon/Geboorte/Datum",
            "Persoon/Nationaliteiten/Nationaliteit/Code",
            "Persoon/Adressen/Hoofdverblijfplaats/Postcode",
            "Persoon/Adressen/Hoofdverblijfplaats/NISCodeGemeente",
            "Persoon/Gezinsleden/Gezinslid/INSZ",
            "Persoon/Gezinsleden/Gezinslid/Positie/Code",
        },
    ),
    "GeefGezinssamenstelling": (
        "ref",
        {},
        {
            "Gezinsleden/Gezinslid/INSZ",
            "Gezinsleden/Gezinslid/Geboortedatum",
            "Gezinsleden/Gezinslid/Positie/Code",
            "Gezinsleden/Gezinslid/Adressen/Hoofdverblijfplaats/NISCodeGemeente",
        },
    ),
    "GeefHistoriekGezinssamenstelling": (
        "ref",
        {},
        {
            "HistoriekGezinssamenstelling/Gezinssamenstelling/Gezinsleden/Gezinslid/INSZ",
            "HistoriekGezinssamenstelling/Gezinssamenstelling/Gezinsleden/Gezinslid/Positie/Code",
        },
    ),
    "GeefAanslagbiljetPersonenbelasting": (
        "ref",
        {"Inkomensjaar": "2023"},
        {
            "AanslagbiljetPersonenbelasting/GevraagdePersoon/INSZ",
            "AanslagbiljetPersonenbelasting/GevraagdePersoon/FiscaleStatus/Code",
            "AanslagbiljetPersonenbelasting/Inkomensjaar",
            "AanslagbiljetPersonenbelasting/Items/Item/Code",
            "AanslagbiljetPersonenbelasting/Items/Item/Waarde",
        },
    ),
    "GeefSociaalStatuut": (
        "ref",
        {"statuses": ["BIM_BVT", "LIVING_WAGES_PCSA_HELP"]},
        {
            "Persoon/INSZ",
            "Persoon/SocialeStatuten/SociaalStatuut/Naam",
            "Persoon/SocialeStatuten/SociaalStatuut/Resultaat/Code",
            "Persoon/SocialeStatuten/SociaalStatuut/Periodes/Periode/Begindatum",
        },
    ),
    "GeefDossierHandicap": (
        "disabled_child",
        {},
        {
            "ConsultFilesByDateResponse/status/value",
            "ConsultFilesByDateResponse/ssin",
            "ConsultFilesByDateResponse/results/dgphResult/status/code",
            "ConsultFilesByDateResponse/results/dgphResult/file/handicapRecognitions"
            "/handicapRecognition/decisionStatus",
            "ConsultFilesByDateResponse/results/dgphResult/file/rights/decisionStatus",
            "ConsultFilesByDateResponse/results/dgphResult/file/socialCards/socialCard/cardCategory",
            "ConsultFilesByDateResponse/results/aviqResult/status/code",
        },
    ),
    "GeefLeefloonbedragen": (
        "leefloner",
        {},
        {
            "Leefloonbedragen/Leefloonbedrag/Jaar",
            "Leefloonbedragen/Leefloonbedrag/Uitbetaling",
            "Leefloonbedragen/Leefloonbedrag/Tegemoetkoming/Jaarlijks/Leefloon/Bedrag",
            "Leefloonbedragen/Leefloonbedrag/Tegemoetkoming/Maandelijks/Maand/LeefloonPerPeriode"
            "/LeefloonPeriode/Bedrag",
            "Leefloonbedragen/Leefloonbedrag/Tegemoetkoming/Maandelijks/Maand/LeefloonPerPeriode"
            "/LeefloonPeriode/Periode/Begin",
        },
    ),
    "Onderwijs.GeefHistoriekInschrijving": (
        "disabled_child",
        {},
        {
            "Inschrijvingen/Inschrijving/Bron",
            "Inschrijvingen/Inschrijving/Instelling/Instellingsnummer",
            "Inschrijvingen/Inschrijving/LeerplichtOnderwijs/InschrijvingAdministratieveGroep"
            "/AdministratieveGroep/Niveau/Code",
            "Inschrijvingen/Inschrijving/LeerplichtOnderwijs/InschrijvingAdministratieveGroep"
            "/Periode/Begin",
        },
    ),
}
NOT_OFFERED = {"ZoekPersoonOpAdres"}  # a template in the mock, not a service Entitle uses
REPERTORIUM = {"RegistreerInschrijving", "RegistreerUitschrijving"}  # test_registry_repertory.py


def test_every_template_in_the_mock_is_covered() -> None:
    on_disk = {path.name for path in REQUESTS.iterdir() if path.is_dir()}
    expected = (set(TEMPLATE_CASES) - {"GeefGezinssamenstelling"}) | NOT_OFFERED | REPERTORIUM
    assert on_disk == expected


@pytest.mark.parametrize("service", sorted(TEMPLATE_CASES))
def test_template_request_gets_an_answer_in_the_mock_shape(
    client: TestClient, city: City, service: str
) -> None:
    who, criteria, essential = TEMPLATE_CASES[service]
    body = build_request(service, getattr(city, who), **criteria)
    response = client.post("/soap", content=body, headers={"content-type": "text/xml"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    answer = reply(response)

    mock_root = mock_answers(service)[0]
    assert answer.tag == mock_root.tag  # same root element name and namespace
    sent = etree.fromstring(body)
    afzender, ontvanger = first(sent, "Afzender"), first(answer, "Ontvanger")
    for name in ("Identificatie", "Referte", "Hoedanigheid"):
        assert ontvanger.findtext(name) == afzender.findtext(name)
    assert first(answer, "Bericht").findtext("Type") == "ANTWOORD"
    assert first(answer, "Context").findtext("Naam") == first(sent, "Context").findtext("Naam")
    assert [a.findtext("Referte") for a in answer.iter("Antwoord")] == ["q1"]

    got = paths(answer)
    assert got <= mock_paths(service), sorted(got - mock_paths(service))
    wanted = COMMON_PATHS | {INHOUD.rstrip("/")} | {INHOUD + p for p in essential}
    assert wanted <= got, sorted(wanted - got)


def test_template_of_a_service_not_offered_gets_a_client_fault(
    client: TestClient, city: City
) -> None:
    (path,) = REQUESTS.glob("ZoekPersoonOpAdres/*/template.xml")
    response = client.post("/soap", content=path.read_bytes())
    assert response.status_code == 500
    fault = reply(response)
    assert fault.tag == f"{{{SOAP_ENV}}}Fault"
    assert fault.findtext("faultcode") == "soapenv:Client"
    assert fault.findtext("detail/Reden") == "unknown-service"


@pytest.mark.parametrize(
    "url",
    [
        "/GeefPersoon/02.02.0000",
        "/GeefPersoon/02.02",
        "/geefpersoon/02.02.0000",
        "/soap",
    ],
)
def test_url_schemes(client: TestClient, city: City, url: str) -> None:
    response = client.post(url, content=build_request("GeefPersoon", city.ref))
    assert response.status_code == 200
    assert first(reply(response), "INSZ").text == city.ref


def test_education_alias_url(client: TestClient, city: City) -> None:
    body = build_request("Onderwijs.GeefHistoriekInschrijving", city.pupil)
    response = client.post("/Onderwijs.GeefHistoriekInschrijving/02.01.0000", content=body)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("/GeefSociaalStatuut/03.00.0000", "service-mismatch"),
        ("/GeefPersoon/01.00.0000", "unknown-version"),
        ("/GeefNiets/01.00", "unknown-service"),
    ],
)
def test_url_must_agree_with_the_request(
    client: TestClient, city: City, url: str, reason: str
) -> None:
    response = client.post(url, content=build_request("GeefPersoon", city.ref))
    assert response.status_code == 500
    assert reply(response).findtext("detail/Reden") == reason


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not xml at all", "invalid-request"),
        (b"", "invalid-request"),
        (b"<a/>", "invalid-request"),
        (b" " * ((1 << 20) + 1), "request-too-large"),
    ],
)
def test_not_a_soap_request(client: TestClient, body: bytes, reason: str) -> None:
    response = client.post("/soap", content=body)
    assert response.status_code == 500
    fault = reply(response)
    assert fault.findtext("faultcode") == "soapenv:Client"
    assert fault.findtext("detail/Reden") == reason


def test_request_errors_are_client_faults(client: TestClient, city: City) -> None:
    no_sender = build_request("GeefPersoon", city.ref, Identificatie=None)
    no_insz = build_request("GeefPersoon", city.ref, INSZ=None)
    answer_type = build_request("GeefPersoon", city.ref, Type="ANTWOORD")
    no_status = build_request("GeefSociaalStatuut", city.ref, statuses=[])
    wrong_ns = build_request("GeefPersoon", city.ref).replace(b"geefpersoon/v02_02", b"x/v9")
    for body, reason in [
        (no_sender, "invalid-request"),
        (no_insz, "invalid-request"),
        (answer_type, "invalid-request"),
        (no_status, "invalid-request"),
        (wrong_ns, "wrong-operation"),
    ]:
        response = client.post("/soap", content=body)
        assert response.status_code == 500
        assert reply(response).findtext("detail/Reden") == reason


# --- what the answers say -----------------------------------------------------------------------


def test_person_answer_reflects_the_registry(client: TestClient, city: City) -> None:
    spouse = reply(client.post("/soap", content=build_request("GeefPersoon", city.spouse)))
    reference = first(spouse, "Referentiepersoon")
    assert reference.findtext("INSZ") == city.ref
    assert reference.findtext("Positie/Code") == "02"  # the asked person's position
    assert first(spouse, "Nationaliteit").findtext("Code") == "354"  # MA
    homeless = reply(client.post("/soap", content=build_request("GeefPersoon", city.leefloner)))
    assert list(homeless.iter("ReferentieAdres"))
    foreigner = reply(
        client.post("/soap", content=build_request("GeefPersoon", city.not_integrated))
    )
    assert first(foreigner, "Register").findtext("Code") == "2"
    assert first(foreigner, "Nationaliteit").findtext("Code") == "711"  # not in the table


def test_household_answer_lists_every_member(client: TestClient, city: City) -> None:
    answer = reply(
        client.post("/soap", content=build_request("GeefGezinssamenstelling", city.pupil))
    )
    members = {m.findtext("INSZ"): m.findtext("Positie/Code") for m in answer.iter("Gezinslid")}
    assert members == {
        city.ref: "01",
        city.spouse: "02",
        city.pupil: "03",
        city.disabled_child: "03",
    }


def test_social_statuses_for_a_date_and_in_family(client: TestClient, city: City) -> None:
    names = ["BIM_BVT", "BIM_BVT_IN_FAMILY", "GENT_PARKING_CHILD"]
    body = build_request("GeefSociaalStatuut", city.disabled_child, statuses=names)
    answer = reply(client.post("/soap", content=body))
    results = {
        s.findtext("Naam"): s.findtext("Resultaat/Code") for s in answer.iter("SociaalStatuut")
    }
    assert results == {"BIM_BVT": "0", "BIM_BVT_IN_FAMILY": "1", "GENT_PARKING_CHILD": "1"}
    before = build_request("GeefSociaalStatuut", city.ref, statuses=["BIM_BVT"], Datum="2023-06-01")
    assert first(reply(client.post("/soap", content=before)), "Resultaat").findtext("Code") == "0"


def test_tax_answer_latest_year_and_all_items(client: TestClient, city: City) -> None:
    body = build_request("GeefAanslagbiljetPersonenbelasting", city.ref, Inkomensjaar=None)
    root = etree.fromstring(body)
    codes = first(root, "IPCALCodes")
    codes.getparent().remove(codes)
    answer = reply(client.post("/soap", content=etree.tostring(root)))
    assert first(answer, "Inkomensjaar").text == "2023"
    items = {i.findtext("Code"): i.findtext("Waarde") for i in answer.iter("Item")}
    assert items == {"A7555": "2156275", "A7270": "1800000"}


def test_leefloon_per_year_and_month(client: TestClient, city: City) -> None:
    body = build_request("GeefLeefloonbedragen", city.leefloner, Jaar="2025", AantalJaarTerug="1")
    answer = reply(client.post("/soap", content=body))
    years = {b.findtext("Jaar"): b for b in answer.iter("Leefloonbedrag")}
    assert set(years) == {"2024", "2025"}
    assert (
        years["2025"].findtext("Tegemoetkoming/Jaarlijks/Leefloon/Bedrag") == "7859.46"
    )  # 1288.46 + 5 × 1314.20
    months = [m.get("JaarMaand") for m in years["2024"].iter("Maand")]
    assert months == [f"2024-{m:02d}" for m in range(5, 13)]


# --- MAGDA's exceptions -------------------------------------------------------------------------

EXCEPTION_CASES = [
    ("GeefPersoon", "unknown", {}, [("Antwoord", "30001", "RR", "FOUT", "140")]),
    ("GeefGezinssamenstelling", "no_household", {}, [("Antwoord", "30001", "MAGDA", "FOUT", None)]),
    (
        "GeefAanslagbiljetPersonenbelasting",
        "spouse",
        {"Inkomensjaar": "2023"},
        [("Antwoord", "30001", "MAGDA", "FOUT", None)],
    ),
    (
        "GeefAanslagbiljetPersonenbelasting",
        "ref",
        {"Inkomensjaar": "2011"},
        [
            (
                "Antwoord",
                "45008",
                "MAGDA",
                "INFORMATIE",
                "Geen gegevens beschikbaar voor meegeleverd inkomstenjaar",
            )
        ],
    ),
    (
        "GeefSociaalStatuut",
        "unknown",
        {"statuses": ["BIM_BVT"]},
        [("Antwoord", "30003", "KSZ", "FOUT", None)],
    ),
    (
        "GeefSociaalStatuut",
        "not_integrated",
        {"statuses": ["BIM_BVT"]},
        [("Antwoord", "30001", "KSZ", "FOUT", "SSH00048")],
    ),
    (
        "GeefLeefloonbedragen",
        "not_integrated",
        {},
        [("Antwoord", "30001", "KSZ", "FOUT", "SSH00048")],
    ),
    (
        "Onderwijs.GeefHistoriekInschrijving",
        "ref",
        {},
        [
            ("Antwoord", "30101", "Disci", "FOUT", None),
            ("Antwoord", "30101", "DHO2", "FOUT", None),
            ("Antwoord", "30101", "DVNCI", "FOUT", None),
        ],
    ),
]


@pytest.mark.parametrize(("service", "who", "criteria", "expected"), EXCEPTION_CASES)
def test_no_data_is_an_uitzondering(
    client: TestClient,
    city: City,
    service: str,
    who: str,
    criteria: dict[str, Any],
    expected: list[tuple[str, str, str, str, str | None]],
) -> None:
    response = client.post("/soap", content=build_request(service, getattr(city, who), **criteria))
    assert response.status_code == 200
    answer = reply(response)
    assert exceptions(answer) == expected
    assert not list(answer.iter("Inhoud"))
    assert paths(answer) <= mock_paths(service) | mock_exception_paths()


def test_education_data_comes_with_the_other_sources_30101(client: TestClient, city: City) -> None:
    body = build_request(
        "Onderwijs.GeefHistoriekInschrijving", city.pupil, Begin="2021-01-01", Einde="2026-06-30"
    )
    answer = reply(client.post("/soap", content=body))
    assert list(answer.iter("Inschrijving"))
    assert {(e[1], e[2]) for e in exceptions(answer)} == {("30101", "DHO2"), ("30101", "DVNCI")}


@pytest.mark.parametrize("who", ["not_integrated", "ref", "unknown"])
def test_disability_without_a_file_is_msg00021(client: TestClient, city: City, who: str) -> None:
    body = build_request("GeefDossierHandicap", getattr(city, who))
    answer = reply(client.post("/soap", content=body))
    assert first(answer, "ConsultFilesByDateResponse").findtext("status/code") == "MSG00021"
    assert {s.findtext("code") for s in answer.iter("status")} == {"MSG00021"}
    assert not list(answer.iter("file"))
    assert paths(answer) <= mock_paths("GeefDossierHandicap")


def test_at_most_five_questions(client: TestClient, city: City) -> None:
    five = reply(client.post("/soap", content=build_request("GeefPersoon", city.ref, questions=5)))
    assert [a.findtext("Referte") for a in five.iter("Antwoord")] == [f"q{n}" for n in range(1, 6)]
    response = client.post("/soap", content=build_request("GeefPersoon", city.ref, questions=6))
    assert response.status_code == 200
    six = reply(response)
    assert exceptions(six) == [("Repliek", "20110", "MAGDA", "FOUT", None)]
    assert not list(six.iter("Antwoorden"))
    assert "maximum aantal toegelaten vragen voor deze operatie is 5" in first(six, "Diagnose").text


def test_question_limit_is_configurable(
    make_client: Callable[[dict[str, Any]], TestClient], city: City
) -> None:
    client = make_client({"max_questions": 2})
    answer = reply(
        client.post("/soap", content=build_request("GeefPersoon", city.ref, questions=3))
    )
    assert exceptions(answer)[0][1] == "20110"


# --- purpose binding ----------------------------------------------------------------------------

AUTHZ = {
    "authorisations": [
        {
            "sender": "gent.be/entitle",
            "capacity": "ENTITLE_UITPAS",
            "services": ["GeefPersoon", "GeefSociaalStatuut"],
            "statuses": ["BIM_BVT", "LIVING_WAGES_PCSA_HELP"],
        },
        {
            "sender": "gent.be/entitle",
            "capacity": 188,  # an unquoted YAML number is a capacity too
            "services": ["Onderwijs.GeefHistoriekInschrijving"],
        },
    ]
}


def test_purpose_binding(
    make_client: Callable[[dict[str, Any]], TestClient],
    city: City,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client(AUTHZ)
    who = {"sender": "gent.be/entitle", "capacity": "ENTITLE_UITPAS"}

    def post(service: str, **kwargs: Any) -> Any:
        return client.post("/soap", content=build_request(service, city.ref, **kwargs))

    assert post("GeefPersoon", **who).status_code == 200
    assert post("GeefSociaalStatuut", statuses=["BIM_BVT"], **who).status_code == 200
    school = {"sender": "gent.be/entitle", "capacity": "188"}
    assert post("Onderwijs.GeefHistoriekInschrijving", **school).status_code == 200

    caplog.set_level(logging.INFO, logger="entitle.registry")
    refused = [
        post("GeefSociaalStatuut", statuses=["BIM_BVT", "GENT_PARKING_ADULT"], **who),
        post("GeefAanslagbiljetPersonenbelasting", **who),
        post("GeefPersoon", sender="gent.be/entitle", capacity="OTHER"),
        post("GeefPersoon", sender="somebody.else", capacity="ENTITLE_UITPAS"),
        post("GeefPersoon", **school),
    ]
    for response in refused:
        assert response.status_code == 500
        fault = reply(response)
        assert fault.findtext("faultcode") == "soapenv:Client"
        assert fault.findtext("detail/Reden") == "not-authorised"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == len(refused)
    assert "GENT_PARKING_ADULT" in warnings[0] and "ENTITLE_UITPAS" in warnings[0]
    assert not any(city.ref in record.getMessage() for record in caplog.records)


def test_authorisation_matrix_is_validated() -> None:
    with pytest.raises(ValidationError, match="must list its statuses"):
        Grant(sender="a", capacity="b", services=["GeefSociaalStatuut"])
    with pytest.raises(ValidationError, match="unknown service"):
        Grant(sender="a", capacity="b", services=["GeefAlles"])


# --- fault injection ----------------------------------------------------------------------------


def test_overload_answers_99996(
    make_client: Callable[[dict[str, Any]], TestClient], city: City
) -> None:
    client = make_client({"faults": {"services": {"GeefPersoon": {"overload_rate": 1}}}})
    answer = reply(client.post("/soap", content=build_request("GeefPersoon", city.ref)))
    assert exceptions(answer) == [("Repliek", "99996", "MAGDA", "FOUT", None)]
    assert not list(answer.iter("Antwoorden"))
    assert paths(answer) <= mock_paths("GeefPersoon")
    other = client.post("/soap", content=build_request("GeefGezinssamenstelling", city.ref))
    assert not exceptions(reply(other))  # only the configured service is overloaded


def test_outage_and_recovery_through_the_admin_api(client: TestClient, city: City) -> None:
    body = build_request("GeefSociaalStatuut", city.ref, statuses=["BIM_BVT"])
    assert client.post("/soap", content=body).status_code == 200
    try:
        assert client.post("/_admin/services/GeefSociaalStatuut/down").status_code == 200
        down = client.post("/soap", content=body)
        assert down.status_code == 503
        url = "/GeefSociaalStatuut/03.00.0000"
        assert client.post(url, content=body).status_code == 503

        client.post("/_admin/services/GeefSociaalStatuut/down", json={"mode": "60006"})
        answer = reply(
            client.post(
                "/soap",
                content=build_request(
                    "GeefSociaalStatuut", city.ref, statuses=["BIM_BVT"], questions=2
                ),
            )
        )
        assert exceptions(answer) == [("Antwoord", "60006", "MAGDA", "FOUT", None)] * 2
        other = client.post("/soap", content=build_request("GeefPersoon", city.ref))
        assert other.status_code == 200 and not exceptions(reply(other))
    finally:
        client.post("/_admin/services/GeefSociaalStatuut/up")
    assert client.post("/soap", content=body).status_code == 200
    stats = client.get("/_admin/stats").json()
    assert stats["GeefSociaalStatuut"]["down:http503"] == 2
    assert stats["GeefSociaalStatuut"]["down:60006"] == 1


def test_injected_errors(make_client: Callable[[dict[str, Any]], TestClient], city: City) -> None:
    faults = {
        "GeefPersoon": {"error_rate": 1},
        "GeefGezinssamenstelling": {"error_rate": 1, "error_mode": "uitzondering"},
    }
    client = make_client({"faults": {"services": faults}})
    response = client.post("/soap", content=build_request("GeefPersoon", city.ref))
    assert response.status_code == 500
    assert reply(response).findtext("faultcode") == "soapenv:Server"
    answer = reply(client.post("/soap", content=build_request("GeefGezinssamenstelling", city.ref)))
    assert exceptions(answer) == [("Repliek", "99994", "MAGDA", "FOUT", None)]


@pytest.mark.parametrize("kind", ["truncated", "not_xml", "missing_inhoud", "missing_antwoorden"])
def test_malformed_replies(
    make_client: Callable[[dict[str, Any]], TestClient], city: City, kind: str
) -> None:
    config = {"malformed_rate": 1, "malformed_kinds": [kind]}
    client = make_client({"faults": {"default": config}})
    response = client.post("/soap", content=build_request("GeefPersoon", city.ref))
    assert response.status_code == 200
    if kind in ("truncated", "not_xml"):
        with pytest.raises(etree.XMLSyntaxError):
            etree.fromstring(response.content)
        return
    answer = reply(response)
    assert first(answer, "Context").findtext("Naam") == "GeefPersoon"
    assert not list(answer.iter("Inhoud")) and not exceptions(answer)
    assert bool(list(answer.iter("Antwoord"))) == (kind == "missing_inhoud")


def test_injected_latency(make_client: Callable[[dict[str, Any]], TestClient], city: City) -> None:
    latency = {"distribution": "uniform", "min": 150, "max": 200}
    client = make_client({"faults": {"services": {"GeefPersoon": {"latency_ms": latency}}}})
    started = time.perf_counter()
    assert client.post("/soap", content=build_request("GeefPersoon", city.ref)).status_code == 200
    assert time.perf_counter() - started >= 0.15


def test_timeout_holds_then_504(
    make_client: Callable[[dict[str, Any]], TestClient], city: City
) -> None:
    faults = {"timeout_rate": 1, "timeout_hold_s": 0.2}
    client = make_client({"faults": {"services": {"GeefPersoon": faults}}})
    started = time.perf_counter()
    response = client.post("/soap", content=build_request("GeefPersoon", city.ref))
    assert response.status_code == 504
    assert time.perf_counter() - started >= 0.2


def outcomes(client: TestClient, body: bytes, count: int) -> list[str]:
    """What each of ``count`` requests got: ok, a fault, or an exception code."""
    seen = []
    for _ in range(count):
        response = client.post("/soap", content=body)
        if response.status_code != 200:
            seen.append(str(response.status_code))
            continue
        try:
            root = reply(response)
        except etree.XMLSyntaxError:
            seen.append("broken")
            continue
        codes = [e[1] for e in exceptions(root)]
        seen.append(codes[0] if codes else "ok" if list(root.iter("Inhoud")) else "empty")
    return seen


def test_faults_are_deterministic_when_seeded(
    make_client: Callable[[dict[str, Any]], TestClient], city: City
) -> None:
    flaky = {"error_rate": 0.2, "overload_rate": 0.2, "malformed_rate": 0.2}
    body = build_request("GeefPersoon", city.ref)

    def run(seed: int) -> list[str]:
        return outcomes(make_client({"faults": {"seed": seed, "default": flaky}}), body, 40)

    first_run = run(7)
    assert first_run == run(7)
    assert first_run != run(8)
    assert {"ok", "500", "99996"} <= set(first_run)

    client = make_client({"faults": {"seed": 7, "default": flaky}})
    outcomes(client, body, 5)
    client.post("/_admin/faults", json={"seed": 7})  # a seed restarts the streams
    assert outcomes(client, body, 40) == first_run


def test_admin_api_validates_and_reports(client: TestClient) -> None:
    before = client.post("/_admin/faults/reset").json()  # the module's client is shared
    bad = client.post("/_admin/faults", json={"services": {"GeefPersoon": {"error_rate": 2}}})
    assert bad.status_code == 400
    assert client.post("/_admin/faults", json={"services": {"GeefNiets": {}}}).status_code == 400
    assert client.get("/_admin/faults").json() == before
    changed = client.post(
        "/_admin/faults",
        json={"services": {"Onderwijs.GeefHistoriekInschrijving": {"overload_rate": 0.5}}},
    ).json()
    assert changed["services"]["GeefHistoriekInschrijving"]["overload_rate"] == 0.5
    assert client.post("/_admin/faults/reset").json() == before
    replaced = client.put("/_admin/faults", json={"seed": 3}).json()
    assert replaced["seed"] == 3 and replaced["services"] == {}
    client.post("/_admin/faults/reset")


def test_admin_token(make_client: Callable[[dict[str, Any]], TestClient]) -> None:
    client = make_client({"admin_token": "s3cret"})
    assert client.get("/_admin/faults").status_code == 401
    assert client.get("/_admin/faults", headers={"x-admin-token": "s3cret"}).status_code == 200
    assert client.get("/health").status_code == 200


# --- the city's own datasets --------------------------------------------------------------------


def test_local_datasets(client: TestClient, city: City) -> None:
    index = client.get("/local").json()["datasets"]
    assert {d["name"] for d in index} == {"ocmw_clients", "school_enrolments"}

    one = client.get("/local/ocmw_clients", params={"insz": city.leefloner}).json()
    assert [r["person_id"] for r in one["rows"]] == [city.leefloner]
    assert one["rows"][0]["debt_help"] is True and one["not_found"] == []
    many = client.get(f"/local/ocmw_clients?insz={city.ref},{city.unknown}").json()
    assert [r["person_id"] for r in many["rows"]] == [city.ref]
    assert many["not_found"] == [city.unknown]
    bulk = client.post("/local/school_enrolments", json={"insz": [city.pupil, city.ref]}).json()
    assert [(r["person_id"], r["care"]) for r in bulk["rows"]] == [(city.pupil, True)]

    parquet = client.get("/local/ocmw_clients.parquet")
    assert parquet.status_code == 200
    assert pl.read_parquet(io.BytesIO(parquet.content)).height == 2
    csv = client.get("/local/school_enrolments.csv")
    assert csv.status_code == 200 and csv.text.startswith("person_id,")

    assert client.get("/local/nothing", params={"insz": city.ref}).status_code == 404
    assert client.get("/local/ocmw_clients").status_code == 400
    assert client.post("/local/ocmw_clients", json={"insz": "x"}).status_code == 400


# --- logs ---------------------------------------------------------------------------------------


def test_logs_never_hold_personal_data(
    client: TestClient, city: City, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="entitle")
    for service, (_, criteria, _) in TEMPLATE_CASES.items():
        for who in [*city.everyone, city.unknown]:
            client.post("/soap", content=build_request(service, who, **criteria))
    client.post("/soap", content=build_request("GeefPersoon", city.ref, questions=6))
    client.post("/soap", content=build_request("GeefPersoon", city.ref, INSZ="12345"))
    client.get("/local/ocmw_clients", params={"insz": city.leefloner})
    messages = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("entitle"))
    assert "GeefPersoon" in messages and "outcome=" in messages
    secrets = [*city.everyone, city.unknown, "12345", "Claes", "Pieter", "Voskenslaan", "2156275"]
    assert not [s for s in secrets if s in messages]


def test_health(client: TestClient) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["persons"] == 7
    assert health["services"]["GeefHistoriekInschrijving"] == "02.01.0000"


def test_the_documented_configuration_loads(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "registry-simulator.md").read_text()
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "sim.yaml").write_text(example, encoding="utf-8")
    config = load_config(tmp_path / "sim.yaml")
    assert config.authorisations and config.faults.seed == 42
