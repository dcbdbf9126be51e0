"""Partitions of a population: written as Parquet by household, decided one by one, collected.

A population too large for one machine is cut into partitions by household — a household and all
its members always land in the same partition, so every household aggregate sees every member —
and each partition is written as Parquet (`part-NNNNN/persons.parquet`, `households.parquet`).
Dask workers read one partition each, build its fact provider from a picklable factory (none: the
partition's own tables answer, fetched lazily stage by stage), decide every benefit with
`evaluate_population`, and write the decisions beside the partition. The collected decisions are
one Parquet file per benefit, in the same row order as a single-machine run: subject, outcome,
outputs, validity, facts used and missing (bitmasks) and fetch count — no condition values.

Each subject's decision depends only on its own household, so a partitioned run gives the same
decision — outcome, outputs, conditions, facts used and missing — as one run over everything.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from entitle.rules.columnar import HOUSEHOLD, ColumnarProvider, Population, evaluate_population
from entitle.rules.logic import OUTCOMES
from entitle.rules.model import Benefit

ROW = "_row"  # a subject's position in the whole population's table: the output order
PART = "_part"
MANIFEST = "partitions.json"
# condition values stay out of the written decisions: one may reveal, e.g., a parking card
CONDITIONS = "^cond_.*$"

# builds, on the worker, the provider of one partition for one benefit on a date (a benefit's
# facts are asked under its own purpose); it must pickle (a frozen dataclass of settings)
ProviderFactory = Callable[[Population, Benefit, date], ColumnarProvider | None]


class PartitionError(ValueError):
    """Partitions cannot be written or read."""


def partition_population(population: Population, partitions: int, out: Path | str) -> list[Path]:
    """Write the population as `partitions` Parquet partitions under `out`; return their folders.

    Households are dealt out in contiguous runs of about equal person counts, in table order;
    persons follow their household. Each table keeps its global row number in `_row`.
    """
    if partitions < 1:
        raise PartitionError(f"partitions must be at least 1, not {partitions}")
    root = Path(out)
    person_rows, sizes = population.index()  # raises on a person without a household
    persons, households = population.persons, population.households
    for column in (ROW, PART):
        if column in persons.columns or column in households.columns:
            raise PartitionError(f"the population's tables may not have a column {column!r}")
    people = max(1, persons.height)
    before = sizes.cum_sum() - sizes  # persons in the households before each one
    part_of_household = ((before * partitions) // people).clip(0, partitions - 1)
    part_of_person = part_of_household.gather(person_rows[HOUSEHOLD])
    wanted: pl.Series | None = None
    if population.subjects is not None:
        wanted = pl.Series("subject_id", list(population.subjects), dtype=pl.String())
    folders = [root / f"part-{index:05d}" for index in range(partitions)]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "subjects.parquet").unlink(missing_ok=True)  # from an earlier partitioning
        if wanted is not None:
            pl.DataFrame({"subject_id": wanted}).write_parquet(folder / "subjects.parquet")
    for name, table, parts in (
        ("persons", persons, part_of_person),
        ("households", households, part_of_household),
    ):
        numbered = table.with_columns(
            pl.int_range(pl.len(), dtype=pl.Int64()).alias(ROW), pl.Series(PART, parts)
        )
        for index, folder in enumerate(folders):
            chosen = numbered.filter(pl.col(PART) == index).drop(PART)
            chosen.write_parquet(folder / f"{name}.parquet")
    manifest = {"partitions": [f.name for f in folders], "subjects": wanted is not None}
    (root / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return folders


def partition_folders(root: Path | str) -> list[Path]:
    """The partition folders written by `partition_population`, in order."""
    path = Path(root) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        return [Path(root) / name for name in manifest["partitions"]]
    except FileNotFoundError:
        raise PartitionError(f"{root} holds no partitions (no {MANIFEST})") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PartitionError(f"cannot read {path}: {exc}") from None


def read_partition(folder: Path | str) -> tuple[Population, pl.DataFrame, pl.DataFrame]:
    """A partition's population, and its persons' and households' global row numbers."""
    root = Path(folder)
    try:
        persons = pl.read_parquet(root / "persons.parquet")
        households = pl.read_parquet(root / "households.parquet")
        subjects_file = root / "subjects.parquet"
        subjects = (
            pl.read_parquet(subjects_file)["subject_id"].to_list()
            if subjects_file.exists()
            else None
        )
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise PartitionError(f"cannot read the partition {root}: {exc}") from None
    population = Population(persons.drop(ROW), households.drop(ROW), subjects)
    return (
        population,
        persons.select(pl.col("person_id").alias("subject_id"), ROW),
        households.select(pl.col("household_id").alias("subject_id"), ROW),
    )


@dataclass(frozen=True)
class PartitionTask:
    """One partition's work: decide every benefit, write `decisions-<benefit>.parquet`."""

    folder: Path
    benefits: tuple[Benefit, ...]
    as_of: date
    provider: ProviderFactory | None = None
    prefill: bool = False


def decisions_file(folder: Path, benefit: Benefit) -> Path:
    """Where a partition's decisions for a benefit are written."""
    return folder / f"decisions-{benefit.id}.parquet"


def evaluate_partition(task: PartitionTask) -> dict[str, int]:
    """Run one partition (on a worker); return the number of decisions per benefit."""
    population, person_rows, household_rows = read_partition(task.folder)
    population.index()  # shared by every benefit of the partition
    counts: dict[str, int] = {}
    for benefit in task.benefits:
        provider = (
            task.provider(population, benefit, task.as_of) if task.provider is not None else None
        )
        frame = evaluate_population(benefit, population, task.as_of, provider, prefill=task.prefill)
        rows = person_rows if benefit.subject == "person" else household_rows
        frame = frame.select(pl.exclude(CONDITIONS)).join(
            rows, on="subject_id", how="left", maintain_order="left"
        )
        frame.write_parquet(decisions_file(task.folder, benefit))
        counts[benefit.id] = frame.height
    return counts


def collect_decisions(folders: Sequence[Path], benefit: Benefit, out: Path) -> Path:
    """Concatenate the partitions' decisions for a benefit into `out`, in population order."""
    files = [decisions_file(folder, benefit) for folder in folders]
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        raise PartitionError(f"no decisions for {benefit.id} in {', '.join(missing[:3])}")
    frame = pl.scan_parquet(files).sort(ROW).drop(ROW)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.sink_parquet(out)
    return out


def decision_counts(frame: pl.LazyFrame) -> dict[str, int]:
    """Outcomes of a columnar result, with the partial decisions (eligible, an output still open)
    and the decisions a comparison settled by its bounds over unknown values."""
    names = frame.collect_schema().names()
    outcome = pl.col("outcome").cast(pl.String())
    open_output = pl.any_horizontal(
        *[pl.col(c).is_null() for c in names if c.startswith("out_")], pl.lit(False)
    )
    by_bounds = pl.col("by_bounds") if "by_bounds" in names else pl.lit(False)
    row = frame.select(
        *[(outcome == o).sum().alias(o) for o in OUTCOMES],
        ((outcome == "eligible") & open_output).sum().alias("partial"),
        by_bounds.fill_null(False).sum().alias("by_bounds"),
    ).collect()
    return {name: int(row[name][0]) for name in row.columns}
