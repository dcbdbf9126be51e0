"""A partitioned run whose Dask workers fetch their facts through the gateway — SOAP questions to
the registry simulator (a separate process) and the city's datasets over HTTP — decides as one
run over the whole city's registry view, and every worker logs its accesses under the purpose."""

from __future__ import annotations

import json
import pickle
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from test_registry_server import running_server
from typer.testing import CliRunner

from entitle.cli.main import app
from entitle.decide.scale.cluster import dask_client, run_partitions
from entitle.decide.scale.gateway import GatewayProviders
from entitle.decide.scale.partitions import partition_population
from entitle.registry.population import load_population
from entitle.registry.synth import read_meta, write_city
from entitle.rules.columnar import Population, evaluate_population
from entitle.rules.loader import load_benefit
from entitle.sources.access import monthly_files

BENEFITS = Path(__file__).resolve().parent.parent / "benefits" / "ghent"
COMPARED = ["subject_id", "outcome"]


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("city")
    write_city(1500, 11, folder)
    return folder


def test_workers_fetch_through_the_gateway_and_decide_as_one_run(
    city: Path, tmp_path: Path
) -> None:
    as_of = date.fromisoformat(read_meta(city)["reference_date"])
    persons, households = load_population(city, "registry", as_of)
    population = Population(persons, households)
    benefits = [load_benefit(BENEFITS / f"{name}.yaml") for name in ("uitpas", "garbage-bags")]
    expected = {b.id: evaluate_population(b, population, as_of) for b in benefits}

    # the partitions hold who lives with whom, not the facts: those the workers ask
    ids = population.persons.select("person_id", "household_id", "position_code")
    facts_free = Population(ids, population.households.select("household_id"))
    partition_population(facts_free, 3, tmp_path / "parts")
    with running_server(city, tmp_path / "simulator.log") as server:
        providers = GatewayProviders(
            registry=server.url,
            sender="gent.be/entitle",
            capacity="ENTITLE",
            state_dir=tmp_path / "state",
        )
        assert pickle.loads(pickle.dumps(providers)) == providers  # what the workers receive
        with dask_client(workers=2) as client:
            files = run_partitions(
                client, tmp_path / "parts", benefits, as_of, tmp_path / "out", provider=providers
            )

    for benefit in benefits:
        got = pl.read_parquet(files[benefit.id]).select(COMPARED)
        want = expected[benefit.id].select(COMPARED)
        assert got.height == want.height > 0
        assert got.equals(want), benefit.id
    logs = list(monthly_files(tmp_path / "state" / "access.jsonl").values())
    assert logs, "the workers logged no access"
    lines = [json.loads(line) for log in logs for line in log.read_text().splitlines()]
    assert {line["purpose"] for line in lines} == {b.purpose for b in benefits}
    assert all(line["subject"] not in set(ids["person_id"]) for line in lines[:200])


def test_the_scale_command_decides_a_register_extract_through_the_registry(
    city: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`entitle scale run` reads the register extract as a campaign does (no synthetic city
    folder), its workers ask the registry, and it decides as one run over the registry view."""
    as_of = date.fromisoformat(read_meta(city)["reference_date"])
    population = Population(*load_population(city, "registry", as_of))
    benefits = [load_benefit(BENEFITS / "garbage-bags.yaml"), load_benefit(BENEFITS / "lez.yaml")]
    monkeypatch.setenv("ENTITLE_MAGDA_SENDER", "gent.be/entitle")
    monkeypatch.setenv("ENTITLE_MAGDA_DEFAULT_CAPACITY", "ENTITLE")
    monkeypatch.setenv("ENTITLE_DATA_DIR", str(tmp_path / "state"))
    out = tmp_path / "out"
    with running_server(city, tmp_path / "simulator.log") as server:
        command = ["scale", "run", "--register", str(city / "registry"), "--out", str(out)]
        command += ["--benefit", "ghent.garbage-bags", "--benefit", str(BENEFITS / "lez.yaml")]
        command += ["--benefits", str(BENEFITS), "--as-of", as_of.isoformat()]
        command += ["--partitions", "2", "--workers", "1", "--registry", server.url]
        result = CliRunner().invoke(app, command, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for benefit in benefits:
        got = pl.read_parquet(out / f"{benefit.id}.parquet").select(COMPARED)
        want = evaluate_population(benefit, population, as_of).select(COMPARED)
        assert got.height == want.height > 0
        assert got.equals(want), benefit.id
    assert not (out / "partitions").exists()  # removed after the run
    assert "ghent.lez" in result.output
    assert monthly_files(tmp_path / "state" / "access.jsonl")  # the workers asked the registry
