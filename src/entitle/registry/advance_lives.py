"""Births and deaths in the advancing city's truth."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from entitle.registry.advance_draws import ages_on, days_in_week
from entitle.registry.advance_frames import append, end_status, find_row
from entitle.registry.advance_rates import RATE_BY_KIND, weekly
from entitle.registry.advance_state import City, private_households

__all__ = ["births", "deaths"]


def births(city: City, rng: np.random.Generator, start: date, touched: set[str]) -> None:
    """The week's births: a child in the household of a mother aged 20-42."""
    persons = city.t["truth/persons.parquet"]
    homes = set(private_households(city)["household_id"].to_list())
    ages = ages_on(persons, start)
    mothers = persons.filter(
        pl.Series((ages >= 20) & (ages <= 42))
        & (pl.col("sex") == "F")
        & pl.col("position_code").is_in(["01", "02"])
        & pl.col("household_id").is_in(list(homes))
    )
    # births are counted on the whole population, then given to mothers
    count = int(rng.binomial(persons.height, weekly(RATE_BY_KIND["birth"].per_year)))
    free = [m for m in mothers["person_id"].to_list() if m not in touched]
    if not free or not count:
        return
    chosen = rng.choice(len(free), size=min(count, len(free)), replace=False)
    names = persons["first_name"].to_list()
    registry = city.t["registry/persons.parquet"]
    for index, day in zip(chosen, days_in_week(rng, start, len(chosen)), strict=True):
        mother = find_row(persons, "person_id", free[int(index)])
        assert mother is not None
        touched.add(mother["person_id"])
        male = bool(rng.random() < 0.51)
        child = dict(mother)
        child.update(
            person_id=city.new_insz(day, male),
            position_code="03",
            first_name=names[int(rng.integers(0, len(names)))],
            birth_date=day,
            sex="M" if male else "F",
            shared_residence=False,
            integrated_ksz=True,
            second_household_id=None,
        )
        persons = append(persons, [child])
        in_registry = find_row(registry, "person_id", mother["person_id"])
        household = in_registry["household_id"] if in_registry else mother["household_id"]
        city.event("birth", child["person_id"], day, rng, household_id=household)
    city.t["truth/persons.parquet"] = persons


def deaths(city: City, rng: np.random.Generator, start: date, touched: set[str]) -> None:
    """The week's deaths, weighted by age; the person's statuses and OCMW file end."""
    persons = city.t["truth/persons.parquet"]
    ages = ages_on(persons, start).astype(float)
    count = int(rng.binomial(persons.height, weekly(RATE_BY_KIND["death"].per_year)))
    if not count:
        return
    weight = np.exp(0.09 * (ages - 80.0))
    ids = persons["person_id"].to_list()
    chosen = rng.choice(len(ids), size=min(count, len(ids)), replace=False, p=weight / weight.sum())
    gone = [ids[int(i)] for i in chosen if ids[int(i)] not in touched]
    touched.update(gone)
    for person, day in zip(gone, days_in_week(rng, start, len(gone)), strict=True):
        city.t["truth/social_statuses.parquet"] = end_status(
            city.t["truth/social_statuses.parquet"], person, None, day
        )
        city.event("death", person, day, rng)
    city.t["truth/persons.parquet"] = persons.filter(~pl.col("person_id").is_in(gone))
    clients = city.t["local/ocmw_clients.parquet"]
    city.t["local/ocmw_clients.parquet"] = clients.filter(~pl.col("person_id").is_in(gone))
