"""Live desk checks on a generated city agree with the columnar engine on its registry view.

The city is made by `entitle synth`, served by the registry simulator as a separate process, and
decided twice: through the gateway (SOAP questions, local datasets) one subject at a time, and by
the columnar engine straight from the registry view's tables. Every outcome must agree.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from test_registry_server import Server, running_server

from entitle.decide.check import check
from entitle.registry.population import load_population
from entitle.registry.synth import write_city
from entitle.rules.columnar import Population, evaluate_population
from entitle.rules.loader import load_benefit
from entitle.rules.model import Benefit
from entitle.sources.access import MemoryAccessLog, Pseudonymiser
from entitle.sources.gateway import Gateway
from entitle.sources.local import HttpDatasets
from entitle.sources.magda import MagdaClient, MagdaSettings

REPO = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 3, 1)
SAMPLE = 1000
BENEFITS = ["uitpas", "garbage-bags", "school-tariff", "lez"]


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synth") / "city"
    write_city(6000, 7, folder)
    return folder


@pytest.fixture(scope="module")
def server(city: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(city, tmp_path_factory.mktemp("sim") / "server.log") as running:
        yield running


@pytest.fixture(scope="module")
def client(server: Server) -> MagdaClient:
    settings = MagdaSettings(
        base_url=server.url, sender="gent.be/entitle", default_capacity="ENTITLE", max_concurrency=2
    )
    return MagdaClient(settings)


@pytest.fixture(scope="module")
def local(server: Server) -> HttpDatasets:
    return HttpDatasets(server.url)


def gateway(benefit: Benefit, client: MagdaClient, local: HttpDatasets) -> Gateway:
    return Gateway(
        client=client,
        local=local,
        purpose=benefit.purpose,
        as_of=AS_OF,
        log=MemoryAccessLog(),
        pseudonymise=Pseudonymiser(b"conformance-test-key"),
    )


def sample_subjects(persons: pl.DataFrame, benefit: Benefit) -> list[tuple[str, str]]:
    """(INSZ to type at the desk, subject id in the columnar result)."""
    rng = random.Random(11)
    if benefit.subject == "person":
        ids = persons["person_id"].to_list()
        return [(i, i) for i in rng.sample(ids, min(SAMPLE, len(ids)))]
    references = persons.filter(pl.col("position_code") == "01")
    rows = rng.sample(list(references.iter_rows(named=True)), min(SAMPLE, references.height))
    return [(row["person_id"], row["household_id"]) for row in rows]


@pytest.mark.parametrize("name", BENEFITS)
def test_live_checks_match_the_registry_view(
    name: str, city: Path, client: MagdaClient, local: HttpDatasets
) -> None:
    benefit = load_benefit(REPO / "benefits" / "ghent" / f"{name}.yaml")
    persons, households = load_population(city, "registry", as_of=AS_OF)
    expected = evaluate_population(benefit, Population(persons, households), AS_OF)
    outcome_of = dict(zip(expected["subject_id"], expected["outcome"], strict=True))
    subjects = sample_subjects(persons, benefit)

    def live(insz: str) -> str:
        gate = gateway(benefit, client, local)
        return str(check(benefit, insz, gate, AS_OF).decision.outcome)

    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(live, [insz for insz, _ in subjects]))
    wrong = [
        (insz, outcome_of[key], outcome)
        for (insz, key), outcome in zip(subjects, got, strict=True)
        if outcome != outcome_of[key]
    ]
    assert not wrong, f"{len(wrong)} of {len(subjects)} differ, e.g. {wrong[:5]}"
    assert len(set(got)) >= 2  # the sample is not trivially one outcome
