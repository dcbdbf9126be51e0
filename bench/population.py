"""A synthetic population of persons and households for the benchmarks (vectorised, seeded).

The shape follows the fact catalogue (`src/entitle/facts/catalogue.yaml`): one row per person and
one per household, column names are fact names without the `person.` / `household.` prefix. Social
status and income columns have a few per cent of nulls: the registry had no data for that person.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

GHENT_NIS = "44021"
OTHER_NIS = ("44083", "44084", "44085", "11002", "21004", "31005", "41002")
GHENT_SHARE = 0.93

# Household sizes 1..7 (Flemish-like), mean about 2.2 persons.
HOUSEHOLD_SIZE_P = np.array([0.37, 0.32, 0.13, 0.11, 0.05, 0.015, 0.005])

REFERENCE_DATE = date(2026, 3, 1)
_EPOCH_DAYS_REF = (REFERENCE_DATE - date(1970, 1, 1)).days


def _household_sizes(persons: int, rng: np.random.Generator) -> np.ndarray:
    """Sizes of households adding up to exactly `persons` (the last one is cut to fit)."""
    mean = float(np.dot(np.arange(1, 8), HOUSEHOLD_SIZE_P))
    sizes = np.empty(0, dtype=np.int64)
    while int(sizes.sum()) < persons:
        draw = rng.choice(np.arange(1, 8), size=int(persons / mean * 1.05) + 16, p=HOUSEHOLD_SIZE_P)
        sizes = np.concatenate([sizes, draw])
    ends = np.cumsum(sizes)
    count = int(np.searchsorted(ends, persons)) + 1
    sizes = sizes[:count].copy()
    sizes[-1] -= int(ends[count - 1]) - persons
    return sizes


def _chance(rng: np.random.Generator, size: int, p: float) -> np.ndarray:
    """A boolean array: each element true with probability `p`."""
    return np.less(rng.random(size), p)


def _nullable(
    values: np.ndarray, null_share: float, rng: np.random.Generator, name: str
) -> pl.Series:
    """A Series of `values` with about `null_share` of them replaced by null."""
    mask = rng.random(values.shape[0]) < null_share
    return pl.Series(name, values).scatter(np.flatnonzero(mask), None)


def _ids(prefix: str, count: int) -> pl.Series:
    """`p0000001`-style string ids."""
    width = max(7, len(str(count)))
    frame = pl.select(
        (
            pl.lit(prefix)
            + (pl.int_range(1, count + 1, eager=False)).cast(pl.Utf8).str.zfill(width)
        ).alias("id")
    )
    return frame.to_series()


def generate_population(persons: int, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Generate `persons` persons in households; return (persons, households) DataFrames."""
    if persons < 1:
        raise ValueError("persons must be at least 1")
    rng = np.random.default_rng(seed)

    sizes = _household_sizes(persons, rng)
    n_hh = sizes.shape[0]
    hh_index = np.repeat(np.arange(n_hh), sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.arange(persons) - starts[hh_index]  # 0 for the reference person

    # Household facts.
    nis_codes = pl.Series([GHENT_NIS, *OTHER_NIS])
    in_ghent = _chance(rng, n_hh, GHENT_SHARE)
    hh_nis = np.where(in_ghent, 0, rng.integers(1, len(nis_codes), n_hh))
    hh_refaddr = _chance(rng, n_hh, 0.005)
    hh_collective = _chance(rng, n_hh, 0.003)

    # Positions: 01 reference person, 02 partner (second member of most households), 03 children,
    # a few 09 (other relatives).
    has_partner = _chance(rng, n_hh, 0.6)
    partner = (rank == 1) & has_partner[hh_index]
    position_codes = pl.Series(["01", "02", "03", "09"])
    position = np.full(persons, 2, dtype=np.int64)
    position[rank == 0] = 0
    position[partner] = 1
    other_rel = (rank >= 1) & ~partner & (_chance(rng, persons, 0.05))
    position[other_rel] = 3
    child = position == 2
    adult = ~child

    # Ages: reference persons 19-94, partners close to them, children 0-25.
    ref_age = np.clip(rng.normal(50, 17, n_hh), 19, 94).astype(np.int64)
    age = ref_age[hh_index].copy()
    age[partner] = np.clip(age[partner] + rng.integers(-6, 7, int(partner.sum())), 18, 99)
    n_child = int(child.sum())
    child_age = np.minimum(
        rng.integers(0, 26, n_child), np.maximum(ref_age[hh_index][child] - 18, 0)
    )
    age[child] = child_age
    age[other_rel] = rng.integers(18, 95, int(other_rel.sum()))
    days = _EPOCH_DAYS_REF - age * 365 - rng.integers(0, 365, persons)

    # Person residence mostly follows the household.
    moved = _chance(rng, persons, 0.002)
    p_nis = np.where(moved, 1, hh_nis[hh_index])

    # Social status: correlated within households (the increased allowance often covers all).
    hh_vt = _chance(rng, n_hh, 0.18)
    increased = np.where(_chance(rng, persons, 0.92), hh_vt[hh_index], _chance(rng, persons, 0.18))
    leefloon = adult & (_chance(rng, persons, 0.03 * 1.35))
    ocmw_leefloon = np.where(_chance(rng, persons, 0.9), leefloon, _chance(rng, persons, 0.01))
    ocmw_debt = _chance(rng, persons, 0.02)
    ocmw_budget = adult & (_chance(rng, persons, 0.015 * 1.35))
    school = child & (age >= 2) & (age <= 12) & (_chance(rng, persons, 0.3))
    shared = child & (_chance(rng, persons, 0.03))
    parking = adult & (_chance(rng, persons, 0.006))
    parking_child = child & (_chance(rng, persons, 0.002))

    # Taxable income in cents: a fifth of adults and nearly all children have none.
    earns = (adult & (_chance(rng, persons, 0.8))) | (
        child & (age >= 18) & (_chance(rng, persons, 0.3))
    )
    euros = np.exp(rng.normal(np.log(24_000), 0.75, persons))
    income = np.where(earns, np.round(euros * 100), 0).astype(np.int64)

    hh_ids = _ids("h", n_hh)
    persons_df = pl.DataFrame(
        [
            _ids("p", persons).alias("person_id"),
            hh_ids.gather(hh_index).alias("household_id"),
            pl.Series("birth_date", days.astype(np.int32)).cast(pl.Date),
            nis_codes.gather(p_nis).alias("municipality_nis"),
            pl.Series("reference_address", hh_refaddr[hh_index]),
            position_codes.gather(position).alias("position_code"),
            pl.Series("shared_residence", shared),
            _nullable(ocmw_leefloon, 0.02, rng, "ocmw_leefloon"),
            _nullable(ocmw_debt, 0.02, rng, "ocmw_debt_help"),
            _nullable(ocmw_budget, 0.02, rng, "ocmw_budget_guidance"),
            pl.Series("city_school_pupil", school),
            _nullable(increased, 0.04, rng, "increased_allowance"),
            _nullable(leefloon, 0.04, rng, "leefloon"),
            _nullable(parking, 0.03, rng, "disability_parking_card"),
            _nullable(parking_child, 0.03, rng, "disability_parking_card_child"),
            _nullable(income, 0.05, rng, "taxable_income").cast(pl.Int64),
        ]
    )
    households_df = pl.DataFrame(
        [
            hh_ids.alias("household_id"),
            nis_codes.gather(hh_nis).alias("municipality_nis"),
            pl.Series("reference_address", hh_refaddr),
            pl.Series("collective", hh_collective),
        ]
    )
    return persons_df, households_df


def main() -> None:
    """Time the generator: `python bench/population.py [persons] [seed]`."""
    import sys
    import time

    persons = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 42
    start = time.perf_counter()
    p, h = generate_population(persons, seed)
    elapsed = time.perf_counter() - start
    print(
        f"{p.height:,} persons in {h.height:,} households ({p.height / h.height:.2f} per household)"
    )
    print(f"generated in {elapsed:.2f} s; {p.estimated_size('mb') + h.estimated_size('mb'):.0f} MB")
    bools = [c for c, t in p.schema.items() if t == pl.Boolean]
    shares = p.select(
        *(pl.col(c).mean().alias(c) for c in bools),
        *(pl.col(c).null_count().truediv(pl.len()).alias(f"{c} null") for c in p.columns),
        (pl.col("municipality_nis") == GHENT_NIS).mean().alias("in ghent"),
        (pl.col("taxable_income") == 0).mean().alias("income 0"),
        (pl.col("taxable_income").median() / 100).alias("income median euro"),
    )
    for name, value in shares.row(0, named=True).items():
        if value:
            print(f"  {name:40} {value:.4f}")
    print(p.group_by("position_code").len().sort("position_code"))


if __name__ == "__main__":
    main()
