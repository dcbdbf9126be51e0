"""The simulator's KSZ repertory (in-process): Repertorium.RegistreerInschrijving 02.00/02.01
and RegistreerUitschrijving answer as the MAGDA mock does, and with require_inscriptions the
KSZ services answer only for persons inscribed for the asker's capacity on the date asked: the
social statuses, handicap files, leefloon amounts and the KSZ family composition (of a person in
the KSZ's own register, a bis number)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from starlette.testclient import TestClient
from test_registry_city import REFERENCE_DATE, City, write_city

from entitle.insz import make_insz
from entitle.registry.repertory import RepertoryFileError
from entitle.registry.server import SimulatorConfig, create_app
from entitle.sources.magda import (
    DossierHandicapCriteria,
    GezinssamenstellingCriteria,
    HistoriekGezinssamenstellingCriteria,
    LeefloonbedragenCriteria,
    MagdaResponse,
    SociaalStatuutCriteria,
    build_request,
    parse_response,
)
from entitle.sources.magda.envelope import Criteria
from entitle.sources.magda.repertorium import (
    InschrijvingCriteria,
    InschrijvingV0201Criteria,
    UitschrijvingCriteria,
)

SENDER, CAPACITY = "gent.be/entitle", "ENTITLE"
DAY = REFERENCE_DATE  # the test city's "today"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    return write_city(tmp_path_factory.mktemp("city"))


@pytest.fixture
def client(city: City) -> Iterator[TestClient]:
    config = SimulatorConfig(require_inscriptions=True)
    with TestClient(create_app(city.path, config)) as test_client:
        yield test_client


def ask(client: TestClient, criteria: Criteria, capacity: str = CAPACITY) -> MagdaResponse:
    built = build_request([criteria], sender=SENDER, capacity=capacity)
    spec = criteria.service
    response = client.post(f"/{spec.naam}/{spec.version}", content=built.xml)
    assert response.status_code == 200, response.text
    return parse_response(response.content)


def inscribe(client: TestClient, insz: str, start: date, end: date, v0201: bool = False) -> str:
    kind = InschrijvingV0201Criteria if v0201 else InschrijvingCriteria
    reply = ask(client, kind(insz, consumer=SENDER, capacity=CAPACITY, start=start, end=end))
    return reply.outcome


def statuses(insz: str, on: date = DAY) -> SociaalStatuutCriteria:
    return SociaalStatuutCriteria(insz, statuses=("BIM_BVT",), on=on)


def test_ksz_data_only_while_inscribed(client: TestClient, city: City) -> None:
    before = ask(client, statuses(city.ref))
    assert [(e.code, e.origin) for e in before.all_errors] == [("30001", "KSZ")]
    assert before.answers[0].errors[0].circumstance == "SSH00048"  # as for a person not integrated
    assert inscribe(client, city.ref, DAY, date(2026, 12, 31)) == "ok"
    after = ask(client, statuses(city.ref))
    assert after.outcome == "ok"
    # another capacity of the same sender is not inscribed; nor a date outside the period
    assert ask(client, statuses(city.ref), capacity="OTHER").outcome == "no_data"
    assert ask(client, statuses(city.ref, date(2027, 1, 5))).outcome == "no_data"
    # deregistered: no data again
    reply = ask(client, UitschrijvingCriteria(city.ref, consumer=SENDER, capacity=CAPACITY))
    assert reply.outcome == "ok" and reply.answers[0].facts["result"] == 1
    assert ask(client, statuses(city.ref)).outcome == "no_data"


def test_the_other_ksz_services_are_gated_too(client: TestClient, city: City) -> None:
    leefloon = LeefloonbedragenCriteria(city.leefloner, year=DAY.year, years_back=0)
    handicap = DossierHandicapCriteria(city.disabled_child, reference_date=DAY)
    assert ask(client, leefloon).outcome == "no_data"
    not_integrated = [e.code for e in ask(client, handicap).all_errors].count("MSG00021")
    assert inscribe(client, city.leefloner, DAY, DAY, v0201=True) == "ok"  # version 02.01
    assert inscribe(client, city.disabled_child, DAY, DAY) == "ok"
    assert ask(client, leefloon).outcome == "ok"
    # the federal file answers now; the other providers have no file (MSG00021) as before
    after = [e.code for e in ask(client, handicap).all_errors].count("MSG00021")
    assert after == not_integrated - 2 == 3


def test_inscription_replies(client: TestClient, city: City) -> None:
    v0201 = ask(
        client,
        InschrijvingV0201Criteria(
            city.spouse, consumer=SENDER, capacity=CAPACITY, start=DAY, end=DAY
        ),
    )
    assert (v0201.service.version, v0201.outcome) == ("02.01.0000", "ok")  # type: ignore[union-attr]
    # a person the register does not know, or a period that is over: "Niet geslaagd"
    assert inscribe(client, city.unknown, DAY, DAY) == "error"
    assert inscribe(client, city.spouse, date(2024, 1, 1), date(2024, 12, 31)) == "error"
    entries = client.get("/_admin/repertory").json()
    assert entries["persons"] == 1
    assert entries["inscriptions"][0]["insz"] == city.spouse


def test_without_the_requirement_nothing_changes(city: City) -> None:
    with TestClient(create_app(city.path)) as plain:
        assert ask(plain, statuses(city.ref)).outcome == "ok"


@pytest.fixture(scope="module")
def bis_city(tmp_path_factory: pytest.TempPathFactory) -> tuple[City, str]:
    """The test city with a lodger in household 1 who has a bis number (the KSZ's register)."""
    city = write_city(tmp_path_factory.mktemp("bis-city"))
    bis = make_insz(date(1992, 4, 5), 77, kind="bis").normalized
    persons = pl.read_parquet(city.path / "registry" / "persons.parquet")
    lodger = persons.filter(pl.col("person_id") == city.spouse).with_columns(
        person_id=pl.lit(bis), first_name=pl.lit("Yusuf"), position_code=pl.lit("12")
    )
    pl.concat([persons, lodger]).write_parquet(city.path / "registry" / "persons.parquet")
    return city, bis


def test_the_ksz_family_composition_only_while_inscribed(bis_city: tuple[City, str]) -> None:
    city, bis = bis_city
    now = GezinssamenstellingCriteria(bis)
    then = HistoriekGezinssamenstellingCriteria(bis, on=DAY)
    later = HistoriekGezinssamenstellingCriteria(bis, on=date(2025, 7, 15))
    with TestClient(create_app(city.path, SimulatorConfig(require_inscriptions=True))) as client:
        refused = ask(client, now)
        assert [(e.code, e.origin, e.circumstance) for e in refused.all_errors] == [
            ("30001", "KSZ", "SSH00048")  # what MAGDA answers for a person not integrated
        ]
        assert ask(client, then).outcome == "no_data"
        # the national register's composition is not KSZ data: answered without inscription
        register = ask(client, GezinssamenstellingCriteria(city.ref))
        assert register.outcome == "ok" and len(register.answers[0].facts["members"]) == 5
        assert inscribe(client, bis, DAY, date(2025, 6, 30)) == "ok"
        assert ask(client, now).outcome == "ok"
        assert ask(client, then).outcome == "ok"
        assert ask(client, later).outcome == "no_data"  # a date after the period
        assert ask(client, now, capacity="OTHER").outcome == "no_data"
        ask(client, UitschrijvingCriteria(bis, consumer=SENDER, capacity=CAPACITY))
        assert ask(client, now).outcome == "no_data"
    with TestClient(create_app(city.path)) as plain:  # inscriptions not required
        assert ask(plain, now).outcome == "ok"


def test_the_repertory_survives_a_restart_in_its_journal(city: City, tmp_path: Path) -> None:
    journal = tmp_path / "repertory.jsonl"
    config = SimulatorConfig(require_inscriptions=True, repertory_file=journal)
    with TestClient(create_app(city.path, config)) as client:
        assert inscribe(client, city.ref, DAY, date(2025, 12, 31)) == "ok"
        assert inscribe(client, city.leefloner, DAY, DAY) == "ok"
        ask(client, UitschrijvingCriteria(city.leefloner, consumer=SENDER, capacity=CAPACITY))
        before = client.get("/_admin/repertory").json()
    with journal.open("a", encoding="utf-8") as out:
        out.write('{"op":"inscribe","consumer":')  # a line cut short by a kill mid-write
    with TestClient(create_app(city.path, config)) as restarted:
        assert restarted.get("/_admin/repertory").json() == before
        assert ask(restarted, statuses(city.ref)).outcome == "ok"
        assert ask(restarted, statuses(city.leefloner)).outcome == "no_data"
    assert len(journal.read_text(encoding="utf-8").splitlines()) == 1  # compacted at start
    journal.write_text('{"op":"?"}\n{"op":"deregister"}\n', encoding="utf-8")
    with pytest.raises(RepertoryFileError, match="line 1"):
        create_app(city.path, config)


def test_a_bad_journal_stops_the_simulator_naming_the_option(city: City, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from entitle.registry.server_cli import registry_app

    journal = tmp_path / "repertory.jsonl"
    journal.write_text("not json\n{}\n", encoding="utf-8")
    options = ["serve", "--data", str(city.path), "--port", "0", "--repertory", str(journal)]
    result = CliRunner().invoke(registry_app, options)
    assert result.exit_code == 2
    assert "--repertory:" in result.output and "line 1: not a repertory change" in result.output
