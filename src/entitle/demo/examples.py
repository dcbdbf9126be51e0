"""Examples for `entitle demo`: INSZ to try at the desk, and the benefits' own test cases.

`desk_examples` decides whole benefits on the registry view of the demo's synthetic city with the
columnar engine — the view the registry simulator serves, on the date the desk decides — and picks
for each outcome one subject of the most common kind (a household benefit: its reference person).
`print_case_tables` shows the decisions on every benefit's test cases (``entitle demo --examples``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.table import Table

from entitle.insz import InvalidInszError, parse_insz
from entitle.rules.logic import OUTCOMES
from entitle.rules.model import Benefit

COLOURS = {"eligible": "green", "not_eligible": "red", "undetermined": "yellow"}


@dataclass(frozen=True)
class Example:
    """One INSZ to try at the desk and the outcome the desk should give."""

    outcome: str
    insz: str  # formatted, as on an eID: 85.07.30-033.28
    why: str  # the conditions that decide, or the facts without data


@dataclass
class BenefitExamples:
    """A benefit's examples and how its subjects in the city are spread over the outcomes."""

    benefit: str
    title: str
    subject: str  # person or household
    counts: dict[str, int]
    examples: list[Example] = field(default_factory=list)


def _formatted(number: str) -> str:
    try:
        return parse_insz(number).formatted
    except InvalidInszError:
        return number


def _why(benefit: Benefit, row: dict[str, object], missing: list[str]) -> str:
    outcome = row["outcome"]
    if outcome == "undetermined":
        unknown = [n for n in benefit.conditions if row[f"cond_{n}"] is None]
        if missing:
            return "no data: " + ", ".join(missing)
        return "unknown: " + ", ".join(unknown)
    wanted = outcome == "eligible"
    names = [n for n in benefit.conditions if row[f"cond_{n}"] is wanted]
    return ("true: " if wanted else "false: ") + ", ".join(names)


def _reference_persons(persons: pl.DataFrame) -> pl.DataFrame:
    """household_id -> the INSZ the desk would type: the reference person (code 01), else the
    first member — the person `Gateway.subject` takes as the household's reference too."""
    return (
        persons.select(
            "household_id", "person_id", (pl.col("position_code") == "01").alias("reference")
        )
        .sort("reference", descending=True, maintain_order=True)
        .unique("household_id", keep="first", maintain_order=True)
        .select("household_id", pl.col("person_id").alias("insz"))
    )


def desk_examples(
    city: Path,
    benefits: dict[str, Benefit],
    as_of: date,
    wanted: Sequence[str],
) -> list[BenefitExamples]:
    """One example per outcome for each wanted benefit (the municipality's demo examples; those
    not configured are skipped)."""
    from entitle.registry.population import load_population
    from entitle.rules.columnar import Population, evaluate_population, fact_names

    persons, households = load_population(city, "registry", as_of=as_of)
    population = Population(persons, households)
    references: pl.DataFrame | None = None
    found: list[BenefitExamples] = []
    for benefit_id in wanted:
        benefit = benefits.get(benefit_id)
        if benefit is None:
            continue
        frame = evaluate_population(benefit, population, as_of)
        if benefit.subject == "household":
            if references is None:
                references = _reference_persons(persons)
            frame = frame.join(
                references, left_on="subject_id", right_on="household_id", how="inner"
            )
        else:
            frame = frame.with_columns(pl.col("subject_id").alias("insz"))
        counts = dict(frame.group_by("outcome").len().iter_rows())
        entry = BenefitExamples(
            benefit_id,
            benefit.title.get("nl") or benefit.title.get("en") or benefit_id,
            benefit.subject,
            {o: int(counts.get(o, 0)) for o in OUTCOMES},
        )
        condition_columns = [f"cond_{n}" for n in benefit.conditions]
        for outcome in OUTCOMES:
            rows = frame.filter(pl.col("outcome") == outcome)
            if rows.is_empty():
                continue
            # the most common kind of this outcome: same conditions, same facts missing
            kind = (
                rows.group_by([*condition_columns, "facts_missing"], maintain_order=True)
                .len()
                .sort("len", descending=True, maintain_order=True)
                .row(0, named=True)
            )
            match = rows.filter(
                pl.all_horizontal(
                    pl.col(c).eq_missing(pl.lit(kind[c], dtype=rows.schema[c]))
                    for c in [*condition_columns, "facts_missing"]
                )
            )
            row = match.row(0, named=True)
            missing = fact_names(benefit, int(row["facts_missing"]))
            entry.examples.append(
                Example(outcome, _formatted(str(row["insz"])), _why(benefit, row, missing))
            )
        found.append(entry)
    return found


def print_desk_examples(console: Console, found: list[BenefitExamples], as_of: date) -> None:
    console.print(
        f"[bold]INSZ to try at the desk[/bold] (decided for {as_of.isoformat()}, the date the "
        "desk decides on; a household benefit: type its reference person's INSZ):",
        highlight=False,
        soft_wrap=True,
    )
    for entry in found:
        spread = ", ".join(f"{entry.counts[o]:,} {o}" for o in OUTCOMES)
        console.print(
            f"  [bold]{entry.title}[/bold] ({entry.benefit}) — {entry.subject}s: {spread}",
            highlight=False,
            soft_wrap=True,
        )
        for example in entry.examples:
            colour = COLOURS[example.outcome]
            console.print(
                f"    [{colour}]{example.outcome:<13}[/{colour}] {example.insz}   "
                f"[dim]{example.why}[/dim]",
                highlight=False,
                soft_wrap=True,
            )
        absent = [o for o in OUTCOMES if not any(e.outcome == o for e in entry.examples)]
        if absent:
            console.print(
                f"    (no {', '.join(absent)} in this city)", highlight=False, soft_wrap=True
            )


def print_case_tables(benefits: Path, console: Console, errors: Console) -> int:
    """Decide the example cases of every benefit and show them, one table per benefit.

    Returns the exit code: 0, or 2 when there are no test cases or one cannot be run.
    """
    from entitle.rules.casetest import benefit_path_for, run_file, test_files
    from entitle.rules.catalogue import default_catalogue
    from entitle.rules.columnar import cross_check_cases
    from entitle.rules.expr import T
    from entitle.rules.loader import load_benefit
    from entitle.rules.plan import plan_benefit

    files = test_files(benefits)
    if not files:
        errors.print(
            f"no benefits with test cases under {benefits}",
            style="red",
            markup=False,
            highlight=False,
        )
        return 2
    for test_file in files:
        result = run_file(test_file, cross_check=cross_check_cases)
        if result.error:
            errors.print(result.error, markup=False, highlight=False)
            return 2
        benefit = load_benefit(benefit_path_for(test_file))
        plan = plan_benefit(benefit, default_catalogue())
        table = Table(
            title=f"{benefit.title['nl']} / {benefit.title['en']} ({benefit.id})",
            title_justify="left",
            expand=True,
        )
        table.add_column("case", ratio=5)
        table.add_column("outcome", ratio=2)
        table.add_column("outputs", ratio=3)
        table.add_column("facts read", ratio=1, justify="right")
        table.add_column("missing (would decide)", ratio=3)
        for case in result.results:
            d = case.decision
            assert d is not None
            outputs = ", ".join(
                f"{k}=€{v:,.2f}"
                if benefit.outputs[k].type == T.MONEY and v is not None
                else f"{k}={'?' if v is None else v}"
                for k, v in d.outputs.items()
            )
            table.add_row(
                case.name,
                f"[{COLOURS[d.outcome]}]{d.outcome}[/]",
                outputs,
                f"{len(d.facts_used)}/{len(plan.facts)}",
                ", ".join(d.facts_missing),
            )
        console.print(table)
    console.print(
        "Both engines (scalar and columnar) agreed on every case. Facts read: distinct facts "
        "fetched / the benefit's maximal need."
    )
    return 0
