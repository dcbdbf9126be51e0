"""Households moving in the advancing city's truth: arrivals into and departures out of the
municipality, adults splitting off into a household of their own, and unregistered cohabitants
registering (a registry-only change: the truth already had them there)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any, Final

import numpy as np
import polars as pl

from entitle.registry.advance_draws import ages_on, days_in_week, pick
from entitle.registry.advance_frames import append, find_row, household_row, set_rows
from entitle.registry.advance_rates import RATE_BY_KIND, weekly
from entitle.registry.advance_state import City, city_address, private_households

__all__ = ["arrivals", "departures", "registrations", "splits"]

ELSEWHERE: Final = {"44021": ("11002", "2000", "Meir"), "": ("44021", "9000", "Veldstraat")}


def arrivals(city: City, rng: np.random.Generator, start: date, touched: set[str]) -> None:
    """The week's new households from elsewhere, at addresses in the municipality."""
    persons = city.t["truth/persons.parquet"]
    target = int(rng.binomial(persons.height, weekly(RATE_BY_KIND["arrival"].per_year)))
    sample = persons.filter(pl.col("position_code") == "01")
    new_people: list[dict[str, Any]] = []
    new_homes: list[dict[str, Any]] = []
    while target > 0:
        size = int(rng.choice([1, 1, 1, 2, 2, 3, 4]))
        target -= size
        day = days_in_week(rng, start, 1)[0]
        household = city.new_household_id()
        address = city_address(city, rng)
        model = sample.row(int(rng.integers(0, sample.height)), named=True)
        members = []
        for member in range(size):
            adult = member < (2 if size >= 2 and rng.random() < 0.6 else 1)
            age_days = int(
                rng.integers(20 * 365, 46 * 365) if adult else rng.integers(30, 13 * 365)
            )
            male = bool(rng.random() < 0.5)
            birth = start - timedelta(days=age_days)
            person = dict(model)
            person.update(
                person_id=city.new_insz(birth, male),
                household_id=household,
                position_code="01" if member == 0 else ("02" if adult else "03"),
                first_name=sample["first_name"][int(rng.integers(0, sample.height))],
                birth_date=birth,
                sex="M" if male else "F",
                **address,
                reference_address=False,
                shared_residence=False,
                integrated_ksz=True,
                second_household_id=None,
            )
            members.append(person)
        new_people.extend(members)
        new_homes.append(household_row(household, members[0]["person_id"], address))
        for person in members:
            touched.add(person["person_id"])
            city.event("arrival", person["person_id"], day, rng, household_id=household)
    city.t["truth/persons.parquet"] = append(persons, new_people)
    city.t["truth/households.parquet"] = append(city.t["truth/households.parquet"], new_homes)


def departures(city: City, rng: np.random.Generator, start: date, touched: set[str]) -> None:
    """The week's households leaving the municipality, all members at once."""
    homes = private_households(city)["household_id"].to_list()
    leaving = pick(rng, homes, RATE_BY_KIND["departure"].per_year, set())
    if not leaving:
        return
    nis, postcode, street = ELSEWHERE.get(city.nis, ELSEWHERE[""])
    persons = city.t["truth/persons.parquet"]
    registry = city.t["registry/persons.parquet"]
    for household, day in zip(leaving, days_in_week(rng, start, len(leaving)), strict=True):
        members = persons.filter(pl.col("household_id") == household)["person_id"].to_list()
        if not members or touched.intersection(members):
            continue
        touched.update(members)
        address = {"municipality_nis": nis, "postcode": postcode, "street": street}
        address["house_number"] = str(int(rng.integers(1, 300)))
        persons = set_rows(persons, "person_id", members, **address)
        city.t["truth/households.parquet"] = set_rows(
            city.t["truth/households.parquet"], "household_id", [household], **address
        )
        for person in members:
            row = find_row(registry, "person_id", person)
            city.event(
                "departure",
                person,
                day,
                rng,
                household_id=row["household_id"] if row else household,
                detail=json.dumps(address, sort_keys=True),
            )
    city.t["truth/persons.parquet"] = persons


def splits(city: City, rng: np.random.Generator, start: date, touched: set[str]) -> None:
    """The week's adults leaving a household for a new one of their own in the city."""
    persons = city.t["truth/persons.parquet"]
    adults = persons.filter(
        pl.Series(ages_on(persons, start) >= 18)
        & (pl.col("position_code") != "01")
        & pl.col("household_id").is_in(private_households(city)["household_id"].to_list())
    )
    candidates = adults.unique("household_id", keep="first", maintain_order=True)[
        "person_id"
    ].to_list()
    leavers = pick(rng, candidates, RATE_BY_KIND["split"].per_year, touched)
    new_homes = []
    for person, day in zip(leavers, days_in_week(rng, start, len(leavers)), strict=True):
        household = city.new_household_id()
        address = city_address(city, rng)
        persons = set_rows(
            persons, "person_id", [person], household_id=household, position_code="01", **address
        )
        new_homes.append(household_row(household, person, address))
        city.event("split", person, day, rng, household_id=household)
    city.t["truth/persons.parquet"] = persons
    city.t["truth/households.parquet"] = append(city.t["truth/households.parquet"], new_homes)


def registrations(city: City, rng: np.random.Generator, start: date, touched: set[str]) -> None:
    """The week's unregistered cohabitants registering at the household they live in."""
    grey = city.t["truth/grey_zones.parquet"]
    hidden = grey.filter(pl.col("kind") == "unregistered_cohabitant")["person_id"].to_list()
    present = set(city.t["truth/persons.parquet"]["person_id"].to_list())
    registering = pick(
        rng, [p for p in hidden if p in present], RATE_BY_KIND["registers"].per_year, touched
    )
    truth = city.t["truth/persons.parquet"]
    registry = city.t["registry/persons.parquet"]
    households = city.t["truth/households.parquet"]
    for person, day in zip(registering, days_in_week(rng, start, len(registering)), strict=True):
        own = find_row(truth, "person_id", person)
        assert own is not None
        home = find_row(households, "household_id", own["household_id"])
        reference = find_row(registry, "person_id", home["reference_person_id"]) if home else None
        if reference is None:
            continue
        city.event(
            "registers",
            person,
            day,
            rng,
            household_id=reference["household_id"],
            detail=own["position_code"],
        )
    city.t["truth/grey_zones.parquet"] = grey.filter(
        ~((pl.col("kind") == "unregistered_cohabitant") & pl.col("person_id").is_in(registering))
    )
