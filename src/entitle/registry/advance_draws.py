"""The week's random draws of the advancing city: who changes and on which day."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from entitle.registry.advance_rates import weekly

__all__ = ["ages_on", "days_in_week", "pick"]


def ages_on(persons: pl.DataFrame, on: date) -> np.ndarray:
    """Each person's age in whole years on `on`."""
    birth = persons["birth_date"]
    years = on.year - birth.dt.year().to_numpy()
    later = (birth.dt.month().to_numpy() > on.month) | (
        (birth.dt.month().to_numpy() == on.month) & (birth.dt.day().to_numpy() > on.day)
    )
    return np.asarray(years - later, dtype=np.int64)


def pick(
    rng: np.random.Generator, candidates: list[str], per_year: float, touched: set[str]
) -> list[str]:
    """Each candidate independently with the week's chance, skipping those changed this week."""
    if not candidates:
        return []
    chosen = np.flatnonzero(rng.random(len(candidates)) < weekly(per_year))
    picked = [candidates[i] for i in chosen if candidates[i] not in touched]
    touched.update(picked)
    return picked


def days_in_week(rng: np.random.Generator, start: date, count: int) -> list[date]:
    """`count` random days of the week after `start`."""
    return [start + timedelta(days=int(d)) for d in rng.integers(1, 8, size=count)]
