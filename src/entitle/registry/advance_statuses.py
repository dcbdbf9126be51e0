"""Social statuses and OCMW help in the advancing city's truth: increased allowance granted and
ended, leefloon started and stopped, parking cards issued (KSZ statuses), and OCMW budget guidance
started and stopped (the city's own dataset, which changes at once)."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from entitle.registry.advance_draws import ages_on, days_in_week, pick
from entitle.registry.advance_frames import append, end_status, open_status, set_rows, start_status
from entitle.registry.advance_rates import RATE_BY_KIND
from entitle.registry.advance_state import City

__all__ = ["statuses"]


def set_local(city: City, person: str, **flags: bool) -> None:
    """Set the OCMW flags of `person` in the city's own dataset (a row added if none)."""
    frame = city.t["local/ocmw_clients.parquet"]
    if person not in set(frame["person_id"].to_list()):
        blank = {
            "person_id": person,
            "leefloon_or_equivalent": False,
            "debt_help": False,
            "budget_guidance": False,
        }
        frame = append(frame, [blank])
    city.t["local/ocmw_clients.parquet"] = set_rows(frame, "person_id", [person], **flags)


def statuses(city: City, rng: np.random.Generator, start: date, touched: set[str]) -> None:
    """The week's social statuses granted and ended; OCMW budget guidance started and
    stopped."""
    persons = city.t["truth/persons.parquet"]
    ids = persons["person_id"].to_list()
    ages = ages_on(persons, start)
    adults = [p for p, a in zip(ids, ages, strict=True) if 18 <= a <= 64]
    statuses = city.t["truth/social_statuses.parquet"]
    vt = open_status(statuses, "BIM_BVT", start)
    leefloon = open_status(statuses, "LIVING_WAGES_PCSA_HELP", start)
    parking = open_status(statuses, "GENT_PARKING_ADULT", start)
    plan: list[tuple[str, list[str], str, bool]] = [
        ("vt_granted", [p for p in ids if p not in vt], "BIM_BVT", True),
        ("vt_ended", sorted(vt & set(ids)), "BIM_BVT", False),
        (
            "leefloon_started",
            [p for p in adults if p not in leefloon],
            "LIVING_WAGES_PCSA_HELP",
            True,
        ),
        ("leefloon_stopped", sorted(leefloon & set(ids)), "LIVING_WAGES_PCSA_HELP", False),
    ]
    disabled = (
        city.t["registry/disability.parquet"].filter(pl.col("recognised"))["person_id"].to_list()
    )
    grown = {p for p, a in zip(ids, ages, strict=True) if a >= 18}
    plan.append(
        (
            "parking_card",
            [p for p in disabled if p in grown and p not in parking],
            "GENT_PARKING_ADULT",
            True,
        )
    )
    for kind, candidates, status, begins in plan:
        chosen = pick(rng, candidates, RATE_BY_KIND[kind].per_year, touched)
        for person, day in zip(chosen, days_in_week(rng, start, len(chosen)), strict=True):
            if begins:
                statuses = start_status(statuses, person, status, day)
            else:
                statuses = end_status(statuses, person, status, day)
            if kind.startswith("leefloon"):
                set_local(city, person, leefloon_or_equivalent=begins)
            city.event(kind, person, day, rng, status=status)
    city.t["truth/social_statuses.parquet"] = statuses
    clients = city.t["local/ocmw_clients.parquet"]
    guided = set(clients.filter(pl.col("budget_guidance"))["person_id"].to_list())
    for kind, candidates, begins in (
        ("guidance_started", [p for p in adults if p not in guided], True),
        ("guidance_stopped", sorted(guided & set(ids)), False),
    ):
        chosen = pick(rng, candidates, RATE_BY_KIND[kind].per_year, touched)
        for person, day in zip(chosen, days_in_week(rng, start, len(chosen)), strict=True):
            set_local(city, person, budget_guidance=begins)
            city.event(kind, person, day, rng)
