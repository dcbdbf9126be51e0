"""A partitioned run on a Dask LocalCluster decides exactly as one run over the whole city."""

from __future__ import annotations

import pickle
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from entitle.cli.main import app
from entitle.decide.scale.cluster import dask_client, run_partitions
from entitle.decide.scale.partitions import (
    PartitionError,
    PartitionTask,
    collect_decisions,
    evaluate_partition,
    partition_folders,
    partition_population,
    read_partition,
)
from entitle.registry.population import load_population
from entitle.registry.synth import read_meta, write_city
from entitle.rules.columnar import Population, TableProvider, evaluate_population
from entitle.rules.loader import load_benefit
from entitle.rules.model import Benefit

BENEFITS = Path(__file__).resolve().parent.parent / "benefits" / "ghent"
NAMES = ("uitpas", "garbage-bags", "school-tariff", "lez")


@pytest.fixture(scope="module")
def city_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("city")
    write_city(8000, 5, folder)
    return folder


@pytest.fixture(scope="module")
def city(city_folder: Path) -> tuple[Population, date]:
    folder = city_folder
    as_of = date.fromisoformat(read_meta(folder)["reference_date"])
    persons, households = load_population(folder, "registry", as_of)
    return Population(persons, households), as_of


@pytest.fixture(scope="module")
def benefits() -> list[Benefit]:
    return [load_benefit(BENEFITS / f"{name}.yaml") for name in NAMES]


@pytest.fixture(scope="module")
def single(city: tuple[Population, date], benefits: list[Benefit]) -> dict[str, pl.DataFrame]:
    population, as_of = city
    return {b.id: _decisions(evaluate_population(b, population, as_of)) for b in benefits}


def _decisions(frame: pl.DataFrame) -> pl.DataFrame:
    """What a partitioned run writes: everything but the condition values."""
    assert any(c.startswith("cond_") for c in frame.columns)
    return frame.select(pl.exclude("^cond_.*$"))


def test_dask_run_equals_single_machine_run(
    city: tuple[Population, date],
    benefits: list[Benefit],
    single: dict[str, pl.DataFrame],
    tmp_path: Path,
) -> None:
    population, as_of = city
    partition_population(population, 5, tmp_path / "parts")
    task = PartitionTask(tmp_path / "parts", tuple(benefits), as_of)
    sent = pickle.loads(pickle.dumps(task))  # what the workers receive
    assert [b.id for b in sent.benefits] == [b.id for b in benefits]
    with dask_client(workers=2) as client:  # a LocalCluster of two worker processes
        assert len(client.scheduler_info()["workers"]) == 2
        files = run_partitions(client, tmp_path / "parts", benefits, as_of, tmp_path / "out")
    assert sorted(files) == sorted(single)
    for benefit_id, expected in single.items():
        got = pl.read_parquet(files[benefit_id])
        assert got.height == expected.height > 0
        assert got.equals(expected), benefit_id  # row for row, every column
    outcomes = set(single["ghent.school-tariff"]["outcome"].cast(pl.String()))
    assert outcomes == {"eligible", "not_eligible", "undetermined"}


def table_provider(population: Population, _benefit: Benefit, _as_of: date) -> TableProvider:
    """A provider factory: the partition's own tables, through the provider interface."""
    return TableProvider(population)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    partitions=st.integers(1, 12),
    benefit_index=st.integers(0, len(NAMES) - 1),
    fetched=st.booleans(),
)
def test_any_partition_count_gives_the_same_decisions(
    city: tuple[Population, date],
    benefits: list[Benefit],
    single: dict[str, pl.DataFrame],
    tmp_path_factory: pytest.TempPathFactory,
    partitions: int,
    benefit_index: int,
    fetched: bool,
) -> None:
    """Whatever the partition count, and whether facts come from a provider built per partition
    (`fetched`) or from the partition's tables, the decisions are the single run's."""
    population, as_of = city
    root = tmp_path_factory.mktemp("parts")
    folders = partition_population(population, partitions, root)
    assert partition_folders(root) == folders
    benefit = benefits[benefit_index]
    households: set[str] = set()
    for folder in folders:
        part, _, _ = read_partition(folder)
        own = set(part.households["household_id"])
        assert own.isdisjoint(households)  # a household never splits
        assert set(part.persons["household_id"]) <= own
        households |= own
        provider = table_provider if fetched else None
        evaluate_partition(PartitionTask(folder, (benefit,), as_of, provider))
    assert len(households) == population.households.height
    got = pl.read_parquet(collect_decisions(folders, benefit, root / "out.parquet"))
    assert got.equals(single[benefit.id])


def test_subjects_are_kept_per_partition(
    city: tuple[Population, date], benefits: list[Benefit], tmp_path: Path
) -> None:
    population, as_of = city
    uitpas = benefits[0]
    chosen = population.persons["person_id"].gather(list(range(0, population.persons.height, 7)))
    subset = Population(population.persons, population.households, chosen.to_list())
    expected = _decisions(evaluate_population(uitpas, subset, as_of))
    folders = partition_population(subset, 3, tmp_path)
    for folder in folders:
        evaluate_partition(PartitionTask(folder, (uitpas,), as_of))
    got = pl.read_parquet(collect_decisions(folders, uitpas, tmp_path / "out.parquet"))
    assert got.equals(expected)
    assert got.height == chosen.len()


def test_bad_partition_input_is_refused(city: tuple[Population, date], tmp_path: Path) -> None:
    population, _ = city
    with pytest.raises(PartitionError, match="at least 1"):
        partition_population(population, 0, tmp_path)
    with pytest.raises(PartitionError, match="no partitions"):
        partition_folders(tmp_path)
    numbered = Population(population.persons.with_row_index("_row"), population.households)
    with pytest.raises(PartitionError, match="_row"):
        partition_population(numbered, 2, tmp_path)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), benefit_index=st.integers(0, len(NAMES) - 1))
def test_table_order_changes_no_decision(
    city: tuple[Population, date],
    benefits: list[Benefit],
    single: dict[str, pl.DataFrame],
    seed: int,
    benefit_index: int,
) -> None:
    """Persons in any order (not grouped by household, members shuffled) and households in
    another order decide the same, metadata included: the listing a member fact is asked in
    comes from the data (position code, then person id), not from the row order."""
    population, as_of = city
    benefit = benefits[benefit_index]
    shuffled = Population(
        population.persons.sample(fraction=1.0, shuffle=True, seed=seed),
        population.households.sample(fraction=1.0, shuffle=True, seed=seed + 1),
    )
    got = _decisions(evaluate_population(benefit, shuffled, as_of))
    expected = single[benefit.id]
    assert got.height == expected.height
    assert got.sort("subject_id").equals(expected.sort("subject_id"))


def test_scale_run_command_refuses_bad_input(city_folder: Path, tmp_path: Path) -> None:
    base = ["scale", "run", "--out", str(tmp_path), "--benefits", str(BENEFITS)]
    register = ["--register", str(city_folder / "registry")]
    unknown = CliRunner().invoke(app, [*base, *register, "--benefit", "x.y"])
    assert unknown.exit_code == 2
    assert "no benefit 'x.y'" in unknown.output
    empty = CliRunner().invoke(app, [*base, "--register", str(tmp_path), "--benefit", "ghent.lez"])
    assert empty.exit_code == 2
    assert "no persons.parquet" in empty.output
