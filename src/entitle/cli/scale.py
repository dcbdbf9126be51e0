"""`entitle scale run`: decide a whole population partitioned over a Dask cluster.

    entitle scale run --register DIR --benefit ghent.uitpas --benefit ghent.lez \\
        --registry URL --partitions 8 --workers 2 --out DIR

The register extract (who lives with whom, as a campaign reads it) is cut into Parquet partitions
by household (`OUT/partitions`, removed after the run unless --keep-partitions), each partition is
decided on a worker of a local Dask cluster (or of the cluster at --scheduler), each worker asking
the registries through the gateway, and the decisions are written to `OUT/<benefit id>.parquet`
in population order.
"""

from __future__ import annotations

import shutil
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from entitle.cli.options import (
    DEFAULT_BENEFITS,
    AsOfOption,
    BenefitsOption,
    LocalOption,
    RegisterOption,
    RegistryOption,
    fail,
    load_named_benefit,
    parse_date,
)
from entitle.console import cli_console
from entitle.settings import settings as entitle_settings

scale_app = typer.Typer(
    help="Whole populations, partitioned over a Dask cluster.", no_args_is_help=True
)
if TYPE_CHECKING:  # the gateway is imported by the command (a quick --help)
    from entitle.decide.scale.gateway import GatewayProviders

console = cli_console()


@scale_app.command("run")
def scale_run(
    benefit: Annotated[
        list[str], typer.Option("--benefit", help="Benefit id or file; repeat for several.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for the decisions' Parquet files.")],
    register: RegisterOption = None,
    partitions: Annotated[int, typer.Option("--partitions", min=1)] = 4,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Local Dask workers.")] = 2,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Address of a running Dask scheduler (no local one)."),
    ] = None,
    as_of: AsOfOption = None,
    benefits_dir: BenefitsOption = DEFAULT_BENEFITS,
    keep_partitions: Annotated[
        bool, typer.Option("--keep-partitions", help="Keep OUT/partitions after the run.")
    ] = False,
    registry: RegistryOption = None,
    local: LocalOption = None,
) -> None:
    """Partition the register extract by household, decide each partition on Dask, write the
    decisions.

    The partitions hold only who lives with whom; each worker asks the registries through the
    gateway, as a campaign does (sender and capacity from ENTITLE_MAGDA_*; access log and
    pseudonym key in the data folder)."""
    from entitle.decide.campaign.definition import CampaignError
    from entitle.decide.campaign.sources import RegisterExtract
    from entitle.decide.scale.cluster import dask_client, run_partitions
    from entitle.decide.scale.partitions import PartitionError, partition_population
    from entitle.rules.columnar import Population

    chosen = [load_named_benefit(name, benefits_dir) for name in benefit]
    when = parse_date(as_of) or date.today()
    start = time.perf_counter()
    try:
        extract = RegisterExtract.load(register or entitle_settings().register_folder())
    except CampaignError as exc:
        raise fail(str(exc)) from None
    providers = _gateway_providers(registry, local or entitle_settings().local)
    # the workers fetch the facts: the partitions keep only the compositions
    persons = extract.persons.select("person_id", "household_id", "position_code")
    households = extract.households.select("household_id")
    del extract
    parts = out / "partitions"
    try:
        partition_population(Population(persons, households), partitions, parts)
        del persons, households
        loaded = time.perf_counter() - start
        with dask_client(workers, scheduler) as client:
            files = run_partitions(client, parts, chosen, when, out, provider=providers)
    except PartitionError as exc:
        raise fail(str(exc)) from None
    finally:
        if not keep_partitions:
            shutil.rmtree(parts, ignore_errors=True)
    _report(files, loaded, time.perf_counter() - start)


def _gateway_providers(registry: str | None, local: str | None) -> GatewayProviders:
    from entitle.datadir import data_dir
    from entitle.decide.scale.gateway import GatewayProviders
    from entitle.sources.magda.settings import load_settings

    settings = load_settings(**({"base_url": registry} if registry else {}))
    if not settings.sender or not settings.default_capacity:
        raise fail("the workers need ENTITLE_MAGDA_SENDER and ENTITLE_MAGDA_DEFAULT_CAPACITY")
    return GatewayProviders(
        registry=settings.base_url,
        sender=settings.sender,
        capacity=settings.default_capacity,
        state_dir=data_dir(),
        local=local,
    )


def _report(files: dict[str, Path], loaded: float, total: float) -> None:
    import polars as pl

    from entitle.decide.scale.partitions import decision_counts

    table = Table(title="Decisions")
    columns = ("benefit", "eligible", "of which partial", "not eligible", "undetermined")
    for column in (*columns, "settled by bounds", "file"):
        table.add_column(column, justify="left" if column in ("benefit", "file") else "right")
    for benefit_id, path in files.items():
        counts = decision_counts(pl.scan_parquet(path))
        table.add_row(
            benefit_id,
            f"{counts['eligible']:,}",
            f"{counts['partial']:,}",
            f"{counts['not_eligible']:,}",
            f"{counts['undetermined']:,}",
            f"{counts['by_bounds']:,}",
            str(path),
        )
    console.print(table)
    console.print(f"read and partitioned in {loaded:.1f} s; {total:.1f} s in all")
