"""Is the synthetic city plausible? Its key figures beside Ghent's published ones.

`summarize(dir)` computes, on the city's reference date, household sizes, the increased allowance
(VT), leefloon, the households a garbage-bag campaign would reach, city-school pupils by tariff
category and the grey zones, for the registry view and the ground truth. Ghent's figures are
scaled to the city's size. Benefit outcomes here are a quick polars reading of the Ghent rules
(three-valued like the engine: unknown stays unknown), not the engine's decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import polars as pl
from rich.console import Console
from rich.table import Table

from entitle.registry.population import PopulationError, View, load_population
from entitle.registry.synth import GREY_KINDS, SynthError, read_meta

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
PARENT_POSITIONS: Final = ["01", "02", "21", "22"]
MEAL_CEILING_CENTS: Final = 2_300_000
CARE_CEILING_CENTS: Final = 3_300_000

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


def _households_view(persons: pl.DataFrame, households: pl.DataFrame) -> pl.DataFrame:
    """Per household: size, single parent, Kleene any() of the facts the Ghent rules read."""
    per_household = persons.group_by("household_id", maintain_order=True).agg(
        pl.len().alias("size"),
        pl.col("increased_allowance").any(ignore_nulls=False).alias("any_vt"),
        pl.col("ocmw_budget_guidance").any(ignore_nulls=False).alias("any_budget"),
        (pl.col("ocmw_leefloon") | pl.col("leefloon")).any(ignore_nulls=False).alias("any_leef"),
        (
            (pl.col("position_code").is_in(["02", "21", "22"]).sum() == 0)
            & ((pl.col("position_code") == "03").sum() > 0)
        ).alias("no_partner_with_child"),
        pl.when(
            pl.col("taxable_income")
            .filter(pl.col("position_code").is_in(PARENT_POSITIONS))
            .null_count()
            > 0
        )
        .then(None)
        .otherwise(
            pl.col("taxable_income").filter(pl.col("position_code").is_in(PARENT_POSITIONS)).sum()
        )
        .alias("parents_income"),
    )
    return households.join(per_household, on="household_id", how="left", maintain_order="left")


def _garbage(view: pl.DataFrame) -> pl.Series:
    own_address = pl.when(pl.col("reference_address")).then(None).otherwise(True)
    eligible = (
        (pl.col("municipality_nis") == "44021")
        & ~pl.col("collective")
        & own_address
        & (pl.col("any_vt") | pl.col("any_budget"))
    )
    return view.select(eligible.alias("eligible")).to_series()


def _school_categories(persons: pl.DataFrame, view: pl.DataFrame) -> pl.DataFrame:
    pupils = persons.filter(pl.col("city_school_pupil")).join(
        view.select("household_id", "any_leef", "parents_income"),
        on="household_id",
        how="left",
        maintain_order="left",
    )
    income = pl.when(pl.col("shared_residence")).then(None).otherwise(pl.col("parents_income"))
    leef = pl.col("any_leef")
    below_care = income < CARE_CEILING_CENTS
    below_meal = income < MEAL_CEILING_CENTS
    category = (
        pl.when(leef)
        .then(pl.lit("A"))
        .when(leef.is_null() | below_care.is_null())
        .then(pl.lit("undetermined"))
        .when(below_meal)
        .then(pl.lit("B"))
        .when(below_care)
        .then(pl.lit("C"))
        .otherwise(pl.lit("none"))
    )
    return pupils.select("household_id", category.alias("category"))


def _num(value: Any) -> float:
    """A polars scalar (sum, mean, count) as a float; None (an empty mean) is 0."""
    return 0.0 if value is None else float(value)


def _figures(directory: Path, view: View) -> dict[str, float]:
    persons, households = load_population(directory, view)
    hh_view = _households_view(persons, households)
    private = hh_view.filter(~pl.col("collective"))
    sizes = private["size"]
    vt = persons["increased_allowance"]
    garbage = _garbage(hh_view)
    categories = _school_categories(persons, hh_view)
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
        "garbage-bag households": _num(garbage.sum()),
        "garbage-bag undetermined": garbage.null_count(),
        "city-school pupils": categories.height,
        "families with a category A pupil": categories.filter(pl.col("category") == "A")[
            "household_id"
        ].n_unique(),
    }
    for category in ("A", "B", "C", "none", "undetermined"):
        figures[f"pupils {category}"] = _num((categories["category"] == category).sum())
    return figures


def summarize(directory: Path | str) -> Summary:
    """The report's figures for a generated city."""
    root = Path(directory)
    meta = read_meta(root)
    persons = int(meta["persons"])
    scale = persons / GHENT_PERSONS
    registry = _figures(root, "registry")
    truth = _figures(root, "truth")
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
    return Summary(
        persons=persons,
        seed=int(meta["seed"]),
        reference_date=str(meta["reference_date"]),
        scale=scale,
        rows=rows,
    )


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


def print_report(directory: Path | str, console: Console | None = None) -> Summary:
    """Print the report of a generated city; raise SynthError when the folder holds none."""
    try:
        summary = summarize(directory)
    except PopulationError as exc:
        raise SynthError(str(exc)) from None
    (console or Console()).print(render(summary))
    return summary
