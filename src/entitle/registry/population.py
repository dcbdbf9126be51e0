"""The engine's input tables from a synthetic city: `load_population(dir, view, as_of)`.

Persons get `person_id`, `household_id` and one column per person fact of the fact catalogue
(`src/entitle/facts/catalogue.yaml`), named without the `person.` prefix; households get
`household_id` and the household facts. Values are what the chosen view knows on `as_of`:

- statuses (VT, leefloon, parking cards) from `social_statuses`, a period counting when
  `start <= as_of <= end` (open end: still running); a person the KSZ has no data for
  (`integrated_ksz` false, MSG00021) gets null — unknown, not false;
- taxable income: the person's own total taxable income (item 7555: A for the titularis, B for the
  partner of a joint assessment) of the latest income year assessed by `as_of` (income year N
  counts from 1 July of N + 1), in cents; no assessment gives null;
- OCMW facts and city-school enrolment from the city's local datasets, which are complete for the
  city: a person missing from them is not a client (false).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Final, Literal

import polars as pl

from entitle.rules.catalogue import assessment_years
from entitle.rules.periods import school_year

View = Literal["registry", "truth"]

PERSON_COLUMNS: Final[dict[str, pl.DataType]] = {
    "person_id": pl.String(),
    "household_id": pl.String(),
    "birth_date": pl.Date(),
    "municipality_nis": pl.String(),
    "reference_address": pl.Boolean(),
    "position_code": pl.String(),
    "shared_residence": pl.Boolean(),
    "ocmw_leefloon": pl.Boolean(),
    "ocmw_debt_help": pl.Boolean(),
    "ocmw_budget_guidance": pl.Boolean(),
    "city_school_pupil": pl.Boolean(),
    "increased_allowance": pl.Boolean(),
    "leefloon": pl.Boolean(),
    "disability_parking_card": pl.Boolean(),
    "disability_parking_card_child": pl.Boolean(),
    "taxable_income": pl.Int64(),
}
HOUSEHOLD_COLUMNS: Final[dict[str, pl.DataType]] = {
    "household_id": pl.String(),
    "municipality_nis": pl.String(),
    "reference_address": pl.Boolean(),
    "collective": pl.Boolean(),
}
# Person fact -> social status name (MAGDA GeefSociaalStatuut).
STATUS_FACTS: Final = {
    "increased_allowance": "BIM_BVT",
    "leefloon": "LIVING_WAGES_PCSA_HELP",
    "disability_parking_card": "GENT_PARKING_ADULT",
    "disability_parking_card_child": "GENT_PARKING_CHILD",
}


class PopulationError(ValueError):
    """The folder holds no usable synthetic city."""


def _reference_date(directory: Path) -> date:
    path = directory / "meta.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        return date.fromisoformat(str(meta["reference_date"]))
    except FileNotFoundError:
        raise PopulationError(f"{directory} holds no synthetic city (no meta.json)") from None
    except (OSError, ValueError, KeyError) as exc:
        raise PopulationError(f"cannot read {path}: {exc}") from None


def load_population(
    directory: Path | str, view: View = "registry", as_of: date | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(persons, households) of a generated city, as the rule engines read them, on `as_of`.

    `as_of` defaults to the city's reference date (meta.json). Rows keep the order of the files.
    """
    if view not in ("registry", "truth"):
        raise PopulationError(f"view must be 'registry' or 'truth', not {view!r}")
    root = Path(directory)
    when = as_of or _reference_date(root)
    base = root / view

    active = (pl.col("start") <= when) & (pl.col("end").is_null() | (pl.col("end") >= when))
    statuses = (
        pl.scan_parquet(base / "social_statuses.parquet")
        .filter(active)
        .group_by("person_id")
        .agg(*((pl.col("status") == name).any().alias(f) for f, name in STATUS_FACTS.items()))
    )
    income = (
        pl.scan_parquet(base / "tax_assessments.parquet")
        .filter(
            (pl.col("item_code") == pl.col("fiscal_status") + pl.lit("7555"))
            & pl.col("income_year").is_in(assessment_years(when))
        )
        .group_by("person_id")
        .agg(pl.col("item_value").sort_by("income_year").last().alias("taxable_income"))
    )
    ocmw = pl.scan_parquet(root / "local" / "ocmw_clients.parquet").select(
        "person_id",
        pl.col("leefloon_or_equivalent").alias("ocmw_leefloon"),
        pl.col("debt_help").alias("ocmw_debt_help"),
        pl.col("budget_guidance").alias("ocmw_budget_guidance"),
    )
    pupils = (
        pl.scan_parquet(root / "local" / "school_enrolments.parquet")
        .filter(pl.col("school_year") == school_year(when))
        .group_by("person_id", maintain_order=True)
        .agg(
            pl.lit(True).alias("city_school_pupil"),
            pl.col("shared_residence").any(),
        )
    )
    integrated = pl.col("integrated_ksz")
    persons = (
        pl.scan_parquet(base / "persons.parquet")
        .select(
            "person_id",
            "household_id",
            "birth_date",
            "municipality_nis",
            "reference_address",
            "position_code",
            "integrated_ksz",
            pl.col("shared_residence").alias("lives_in_two_homes"),
        )
        .join(ocmw, on="person_id", how="left", maintain_order="left")
        .join(pupils, on="person_id", how="left", maintain_order="left")
        .join(statuses, on="person_id", how="left", maintain_order="left")
        .join(income, on="person_id", how="left", maintain_order="left")
        .with_columns(
            pl.col(
                "ocmw_leefloon",
                "ocmw_debt_help",
                "ocmw_budget_guidance",
                "city_school_pupil",
                "shared_residence",
            ).fill_null(False),
            *(
                pl.when(integrated).then(pl.col(f).fill_null(False)).otherwise(None).alias(f)
                for f in STATUS_FACTS
            ),
        )
        .with_columns(
            # registry view: what the school recorded; truth: every pupil who lives in two homes
            (pl.col("city_school_pupil") & pl.col("lives_in_two_homes")).alias("shared_residence")
            if view == "truth"
            else pl.col("shared_residence")
        )
        .select(pl.col(name).cast(dtype) for name, dtype in PERSON_COLUMNS.items())
    )
    households = pl.scan_parquet(base / "households.parquet").select(
        pl.col(name).cast(dtype) for name, dtype in HOUSEHOLD_COLUMNS.items()
    )
    try:
        return persons.collect(), households.collect()
    except (FileNotFoundError, pl.exceptions.PolarsError) as exc:
        raise PopulationError(f"cannot load the {view} view of {root}: {exc}") from None
