"""A synthetic city generated for another reference date (`entitle synth --as-of`).

The demo makes its city for the date the desk decides on, so that a pupil the school campaign
finds is eligible at the desk too: enrolments are for the school year of that date, assessments
for the income years the rules read on it, ages and statuses as on that day. The date is given
here, never today's.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import typer
from test_registry_server import running_server
from typer.testing import CliRunner

from entitle.decide.check import check
from entitle.registry.population import load_population
from entitle.registry.synth import REFERENCE_DATE, write_city
from entitle.registry.synth_cli import synth
from entitle.rules.catalogue import assessment_years
from entitle.rules.columnar import Population, evaluate_population
from entitle.rules.loader import load_benefit
from entitle.rules.periods import school_year
from entitle.sources.access import MemoryAccessLog, Pseudonymiser
from entitle.sources.gateway import Gateway
from entitle.sources.local import HttpDatasets
from entitle.sources.magda import MagdaClient, MagdaSettings

REPO = Path(__file__).resolve().parents[1]
SCHOOL_TARIFF = REPO / "benefits" / "ghent" / "school-tariff.yaml"
DESK_DAY = date(2026, 12, 3)  # a desk day in the school year after the default city's
PERSONS, SEED = 3000, 7


@pytest.fixture(scope="module")
def cities(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same city on the default reference date and on DESK_DAY."""
    root = tmp_path_factory.mktemp("as-of")
    write_city(PERSONS, SEED, root / "default")
    write_city(PERSONS, SEED, root / "desk-day", reference=DESK_DAY)
    return {"default": root / "default", "desk-day": root / "desk-day"}


def _school_outcomes(city: Path, as_of: date) -> pl.DataFrame:
    benefit = load_benefit(SCHOOL_TARIFF)
    persons, households = load_population(city, "registry", as_of=as_of)
    return evaluate_population(benefit, Population(persons, households), as_of)


def test_the_city_stands_on_its_reference_date(cities: dict[str, Path]) -> None:
    city = cities["desk-day"]
    meta = json.loads((city / "meta.json").read_text(encoding="utf-8"))
    assert meta["reference_date"] == "2026-12-03"
    assert meta["school_year"] == school_year(DESK_DAY) == "2026-2027"
    assert meta["income_years"] == sorted(assessment_years(DESK_DAY)) == [2024, 2025]
    records = pl.read_parquet(city / "local/school_enrolments.parquet")
    assert set(records["school_year"]) == {"2025-2026", "2026-2027"}
    taxes = pl.read_parquet(city / "registry/tax_assessments.parquet")
    assert set(taxes["income_year"]) == {2024, 2025}
    persons = pl.read_parquet(city / "registry/persons.parquet")
    assert persons["birth_date"].max() <= DESK_DAY  # type: ignore[operator]
    statuses = pl.read_parquet(city / "registry/social_statuses.parquet")
    assert statuses["start"].max() <= DESK_DAY  # type: ignore[operator]
    # the same draws: as many persons, about as many pupils in the city's records
    default = pl.read_parquet(cities["default"] / "local/school_enrolments.parquet")
    assert persons.height == pl.read_parquet(cities["default"] / "registry/persons.parquet").height
    assert abs(records.height - default.height) < 0.2 * default.height


def test_pupils_are_eligible_on_the_desk_day_only_in_a_city_of_that_day(
    cities: dict[str, Path],
) -> None:
    # the city of 1 March 2026 holds no enrolment for 2026-2027: nobody is eligible in December
    assert REFERENCE_DATE < DESK_DAY
    stale = _school_outcomes(cities["default"], DESK_DAY)
    assert stale.filter(pl.col("outcome") == "eligible").height == 0
    fresh = _school_outcomes(cities["desk-day"], DESK_DAY)
    assert fresh.filter(pl.col("outcome") == "eligible").height > 0


def test_the_desk_finds_the_campaign_s_pupils_on_that_day(cities: dict[str, Path]) -> None:
    """The desk's scalar engine, through the gateway and the simulator, agrees with the
    columnar engine (the campaign's) on pupils eligible on DESK_DAY."""
    city = cities["desk-day"]
    eligible = (
        _school_outcomes(city, DESK_DAY)
        .filter(pl.col("outcome") == "eligible")["subject_id"]
        .head(5)
        .to_list()
    )
    assert eligible
    benefit = load_benefit(SCHOOL_TARIFF)
    log = city.parent / "server.log"
    with running_server(city, log) as server:
        settings = MagdaSettings(
            base_url=server.url, sender="gent.be/entitle", default_capacity="ENTITLE"
        )
        client, local = MagdaClient(settings), HttpDatasets(server.url)
        for insz in eligible:
            gate = Gateway(
                client=client,
                local=local,
                purpose=benefit.purpose,
                as_of=DESK_DAY,
                log=MemoryAccessLog(),
                pseudonymise=Pseudonymiser(b"as-of-test-key-of-16-bytes"),
            )
            assert str(check(benefit, insz, gate, DESK_DAY).decision.outcome) == "eligible"


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command("synth")(synth)

    @app.command("other")
    def other() -> None:  # a second command keeps `synth` a subcommand
        """Unused."""

    return app


def test_cli_generates_a_city_as_of_a_date(tmp_path: Path) -> None:
    out = tmp_path / "city"
    args = ["synth", "--persons", "300", "--out", str(out), "--as-of", "2026-12-03"]
    result = CliRunner().invoke(_cli(), args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "as of 2026-12-03 (school year 2026-2027)" in result.output
    assert json.loads((out / "meta.json").read_text())["reference_date"] == "2026-12-03"
    args = ["synth", "--persons", "300", "--out", str(tmp_path / "bad"), "--as-of", "3 Dec"]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 2 and "--as-of must be a date" in result.output
