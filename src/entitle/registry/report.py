"""Is the synthetic city plausible? Its key figures beside Ghent's published ones.

`summarize(dir, benefits)` computes, on the city's reference date, household sizes, the increased
allowance (VT), leefloon, the households a garbage-bag campaign would reach, city-school pupils by
tariff category and the grey zones, for the registry view and the ground truth. Ghent's figures
are scaled to the city's size. Benefit figures are the columnar engine's decisions on the Ghent
rules in the benefits folder (`garbage-bags.yaml`, `school-tariff.yaml`), so they cannot drift
from them: undetermined stays undetermined.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import polars as pl
from rich.console import Console
from rich.table import Table

from entitle.console import cli_console
from entitle.registry.population import PopulationError, View, load_population
from entitle.registry.synth import GREY_KINDS, SynthError, read_meta
from entitle.rules.columnar import Population, evaluate_population
from entitle.rules.loader import RuleFileError, load_benefit
from entitle.rules.model import Benefit

GHENT_PERSONS: Final = 269_191  # end 2023, BELGIUM.md
GHENT_HOUSEHOLDS: Final = 120_000  # private households, BELGIUM.md
# Households by size, Ghent 2020 (hoeveelin.stad.gent/prognoses): 1, 2, 3, 4+ persons of 120,802.
GHENT_SIZE_SHARES: Final = {"1": 49_068 / 120_802, "2": 36_014 / 120_802, "3": 12_750 / 120_802}
GHENT_SIZE_4_PLUS: Final = 20_855 / 120_802
GHENT_MEAN_SIZE: Final = 2.16  # 2020, hoeveelin.stad.gent
GHENT_SINGLE_PARENT_SHARE: Final = 10_019 / 120_448  # Statbel, 1 January 2019
NATIONAL_VT_SHARE: Final = 2.1 / 11.5  # ~2.1 million of ~11.5 million (2021), BELGIUM.md
GHENT_LEEFLOON: Final = (5_140, 6_077)  # Ghent 2010-2012 (knack.be); no figure in BELGIUM.md
GHENT_GARBAGE_HOUSEHOLDS: Final = 25_000  # BELGIUM.md
GHENT_CATEGORY_A_FAMILIES: Final = 800  # "from 200 to 800 families on social allowances" (context)
DEFAULT_BENEFITS: Final = Path("benefits/ghent")
GARBAGE_FILE: Final = "garbage-bags.yaml"
SCHOOL_FILE: Final = "school-tariff.yaml"

_BELGIUM = "BELGIUM.md"
_SIZES = "stad.gent 2020"


@dataclass(frozen=True)
class Row:
    """One line of the report."""

    section: str
    label: str
    synthetic: float | None  # registry view
    truth: float | None
    ghent: float | None  # scaled to the city's size where it is a count
    source: str
    percent: bool = False


@dataclass(frozen=True)
class Summary:
    """The report's figures."""

    persons: int
    seed: int
    reference_date: str
    scale: float
    rows: list[Row]

    def value(self, label: str) -> float | None:
        """The registry-view figure of a row, by label (for tests)."""
        for row in self.rows:
            if row.label == label:
                return row.synthetic
        raise KeyError(label)


@dataclass(frozen=True)
class Benefits:
    """The Ghent rules the report decides with."""

    garbage: Benefit  # subject household
    school: Benefit  # subject person; output `category`, condition `city_school_pupil`


def load_benefits(folder: Path | str = DEFAULT_BENEFITS) -> Benefits:
    """The garbage-bag and school-tariff rules of a benefits folder; SynthError if unusable."""
    root = Path(folder)
    loaded: list[Benefit] = []
    for name in (GARBAGE_FILE, SCHOOL_FILE):
        path = root / name
        if not path.is_file():
            raise SynthError(
                f"benefit file {path} not found: --benefits must name the folder holding "
                f"{GARBAGE_FILE} and {SCHOOL_FILE} (default {DEFAULT_BENEFITS})"
            )
        try:
            loaded.append(load_benefit(path))
        except (OSError, RuleFileError) as exc:
            raise SynthError(f"cannot load benefit file {path}:\n{exc}") from None
    garbage, school = loaded
    if garbage.subject != "household":
        raise SynthError(f"{root / GARBAGE_FILE}: the subject must be household")
    if (
        school.subject != "person"
        or "category" not in school.outputs
        or "city_school_pupil" not in school.conditions
    ):
        raise SynthError(
            f"{root / SCHOOL_FILE}: expected a person benefit with a `category` output and a "
            "`city_school_pupil` condition"
        )
    return Benefits(garbage, school)


def _num(value: Any) -> float:
    """A polars scalar (sum, mean, count) as a float; None (an empty mean) is 0."""
    return 0.0 if value is None else float(value)


def _households_view(persons: pl.DataFrame, households: pl.DataFrame) -> pl.DataFrame:
    """Per household: size and whether it is a single parent with a child."""
    per_household = persons.group_by("household_id", maintain_order=True).agg(
        pl.len().alias("size"),
        (
            (pl.col("position_code").is_in(["02", "21", "22"]).sum() == 0)
            & ((pl.col("position_code") == "03").sum() > 0)
        ).alias("no_partner_with_child"),
    )
    return households.join(per_household, on="household_id", how="left", maintain_order="left")


def _school_categories(school: pl.DataFrame, persons: pl.DataFrame) -> pl.DataFrame:
    """Per city-school pupil (engine result of the school tariff): household and category.

    The category is the engine's `category` output when eligible, `none` when not eligible,
    `undetermined` otherwise.
    """
    category = (
        pl.when(pl.col("outcome") == "eligible")
        .then(pl.col("out_category"))
        .when(pl.col("outcome") == "not_eligible")
        .then(pl.lit("none"))
        .otherwise(pl.lit("undetermined"))
    )
    return (
        school.filter(pl.col("cond_city_school_pupil"))
        .join(
            persons.select(pl.col("person_id").alias("subject_id"), "household_id"),
            on="subject_id",
            how="left",
            maintain_order="left",
        )
        .select("household_id", category.alias("category"))
    )


def _figures(directory: Path, view: View, benefits: Benefits, as_of: date) -> dict[str, float]:
    persons, households = load_population(directory, view, as_of=as_of)
    population = Population(persons, households)
    hh_view = _households_view(persons, households)
    private = hh_view.filter(~pl.col("collective"))
    sizes = private["size"]
    vt = persons["increased_allowance"]
    garbage = evaluate_population(benefits.garbage, population, as_of, prefill=True)["outcome"]
    school = evaluate_population(benefits.school, population, as_of, prefill=True)
    categories = _school_categories(school, persons)
    figures: dict[str, float] = {
        "persons": persons.height,
        "private households": private.height,
        "mean size": _num(sizes.mean()),
        "single-parent households": _num(private["no_partner_with_child"].mean()),
        "collective residents": _num(hh_view.filter(pl.col("collective"))["size"].sum()),
        "reference address persons": _num(persons["reference_address"].sum()),
        "size 1": _num((sizes == 1).mean()),
        "size 2": _num((sizes == 2).mean()),
        "size 3": _num((sizes == 3).mean()),
        "size 4+": _num((sizes >= 4).mean()),
        "size 5+": _num((sizes >= 5).mean()),
        "VT persons": _num(vt.sum()),
        "VT share": _num(vt.sum()) / max(persons.height, 1),
        "VT unknown (no KSZ data)": vt.null_count(),
        "leefloon persons (KSZ)": _num(persons["leefloon"].sum()),
        "leefloon persons (OCMW)": _num(persons["ocmw_leefloon"].sum()),
        "OCMW budget guidance": _num(persons["ocmw_budget_guidance"].sum()),
        "OCMW debt help": _num(persons["ocmw_debt_help"].sum()),
        "garbage-bag households": _num((garbage == "eligible").sum()),
        "garbage-bag undetermined": _num((garbage == "undetermined").sum()),
        "city-school pupils": categories.height,
        "families with a category A pupil": categories.filter(pl.col("category") == "A")[
            "household_id"
        ].n_unique(),
    }
    for category in ("A", "B", "C", "none", "undetermined"):
        figures[f"pupils {category}"] = _num((categories["category"] == category).sum())
    return figures


def summarize(directory: Path | str, benefits: Path | str = DEFAULT_BENEFITS) -> Summary:
    """The report's figures for a generated city, deciding with the rules in `benefits`."""
    root = Path(directory)
    meta = read_meta(root)
    rules = load_benefits(benefits)
    persons = int(meta["persons"])
    scale = persons / GHENT_PERSONS
    try:
        as_of = date.fromisoformat(str(meta["reference_date"]))
    except (KeyError, ValueError) as exc:
        raise SynthError(f"{root / 'meta.json'}: bad reference_date ({exc})") from None
    registry = _figures(root, "registry", rules, as_of)
    truth = _figures(root, "truth", rules, as_of)
    grey = (
        pl.read_parquet(root / "truth" / "grey_zones.parquet")
        .group_by("kind")
        .agg(pl.col("person_id").n_unique().alias("persons"))
    )
    grey_counts = dict(zip(grey["kind"].to_list(), grey["persons"].to_list(), strict=True))

    def row(
        section: str,
        label: str,
        ghent: float | None = None,
        source: str = "",
        percent: bool = False,
        with_truth: bool = True,
    ) -> Row:
        return Row(
            section,
            label,
            registry[label],
            truth[label] if with_truth else None,
            ghent,
            source,
            percent,
        )

    low, high = GHENT_LEEFLOON
    rows = [
        row("city", "persons", GHENT_PERSONS * scale, f"{GHENT_PERSONS:,} end 2023, {_BELGIUM}"),
        row("city", "private households", GHENT_HOUSEHOLDS * scale, f"~120,000, {_BELGIUM}"),
        row("city", "mean size", GHENT_MEAN_SIZE, _SIZES),
        row("city", "size 1", GHENT_SIZE_SHARES["1"], _SIZES, percent=True),
        row("city", "size 2", GHENT_SIZE_SHARES["2"], _SIZES, percent=True),
        row("city", "size 3", GHENT_SIZE_SHARES["3"], _SIZES, percent=True),
        row("city", "size 4+", GHENT_SIZE_4_PLUS, _SIZES, percent=True),
        row("city", "size 5+", percent=True),
        row(
            "city",
            "single-parent households",
            GHENT_SINGLE_PARENT_SHARE,
            "Statbel 2019",
            percent=True,
        ),
        row("city", "collective residents"),
        row("city", "reference address persons"),
        row("statuses", "VT persons"),
        row("statuses", "VT share", NATIONAL_VT_SHARE, f"national 2021, {_BELGIUM}", True),
        row("statuses", "VT unknown (no KSZ data)"),
        row(
            "statuses",
            "leefloon persons (KSZ)",
            (low + high) / 2 * scale,
            f"{low:,}-{high:,} Ghent 2010-12 (knack.be)",
        ),
        row("statuses", "leefloon persons (OCMW)"),
        row("statuses", "OCMW budget guidance"),
        row("statuses", "OCMW debt help"),
        row(
            "benefits",
            "garbage-bag households",
            GHENT_GARBAGE_HOUSEHOLDS * scale,
            f"~25,000, {_BELGIUM}",
        ),
        row("benefits", "garbage-bag undetermined"),
        row("benefits", "city-school pupils"),
        row("benefits", "pupils A"),
        row("benefits", "pupils B"),
        row("benefits", "pupils C"),
        row("benefits", "pupils none"),
        row("benefits", "pupils undetermined"),
        row(
            "benefits",
            "families with a category A pupil",
            GHENT_CATEGORY_A_FAMILIES * scale,
            "~800 families, context (2022)",
        ),
    ]
    for kind in GREY_KINDS:
        rows.append(Row("grey zones", kind, grey_counts.get(kind, 0), None, None, ""))
    rows.extend(_change_rows(root, meta))
    return Summary(
        persons=persons,
        seed=int(meta["seed"]),
        reference_date=str(meta["reference_date"]),
        scale=scale,
        rows=rows,
    )


def _change_rows(root: Path, meta: dict[str, Any]) -> list[Row]:
    """The yearly rates `entitle registry advance` changes the city at (registry column) and,
    once advanced, the rates seen in its history (truth column; per-person rates only)."""
    from entitle.registry.advance import events_path
    from entitle.registry.advance_rates import LAGS, RATES, WEEKS_PER_YEAR

    weeks = int(meta.get("week", 0))
    seen: dict[str, int] = {}
    path = events_path(root)
    if weeks and path.is_file():
        counts = pl.read_parquet(path).filter(pl.col("week") > 0).group_by("kind").len()
        seen = dict(zip(counts["kind"].to_list(), counts["len"].to_list(), strict=True))
    rows = meta.get("rows", {})
    persons = max(int(rows.get("truth/persons.parquet", meta.get("persons", 1))), 1)
    section = f"changes a year (advanced {weeks} week{'' if weeks == 1 else 's'})"
    return [
        Row(
            section,
            f"{rate.kind} per {rate.per}",
            rate.per_year,
            seen.get(rate.kind, 0) * WEEKS_PER_YEAR / weeks / persons
            if weeks and rate.per == "person"
            else None,
            None,
            f"{rate.source}; {_lag(LAGS.get(rate.kind))}",
            percent=True,
        )
        for rate in RATES
    ]


def _lag(days: tuple[int, int] | None) -> str:
    if days is None:
        return "the city's own data: no registry lag"
    low, high = days
    return f"registry lag {low}-{high} days" if high else "no registry lag"


def _format(value: float | None, percent: bool) -> str:
    if value is None:
        return ""
    if percent:
        return f"{value:.1%}"
    if float(value).is_integer() or abs(value) >= 100:
        return f"{round(value):,}"
    return f"{value:.2f}"


def render(summary: Summary) -> Table:
    """The summary as a Rich table."""
    table = Table(
        title=(
            f"Synthetic city: {summary.persons:,} persons, seed {summary.seed}, "
            f"on {summary.reference_date}"
        ),
        caption=f"Ghent's counts scaled by {summary.scale:.3f} (persons / {GHENT_PERSONS:,})",
    )
    table.add_column("figure")
    table.add_column("registry view", justify="right")
    table.add_column("truth", justify="right")
    table.add_column("Ghent", justify="right")
    table.add_column("source", style="dim")
    section = ""
    for row in summary.rows:
        if row.section != section:
            if section:
                table.add_section()
            section = row.section
            table.add_row(f"[bold]{section}[/bold]", "", "", "", "")
        table.add_row(
            f"  {row.label}",
            _format(row.synthetic, row.percent),
            _format(row.truth, row.percent),
            _format(row.ghent, row.percent),
            row.source,
        )
    return table


def print_report(
    directory: Path | str,
    console: Console | None = None,
    benefits: Path | str = DEFAULT_BENEFITS,
) -> Summary:
    """Print the report of a generated city; SynthError when the folder holds none or the
    benefits folder lacks the Ghent rules."""
    try:
        summary = summarize(directory, benefits)
    except PopulationError as exc:
        raise SynthError(str(exc)) from None
    (console or cli_console()).print(render(summary))
    return summary
