"""Reach against the ground truth of a synthetic city (evaluation only, never in production).

A synthetic city (`entitle synth`) has a registry view — what the simulator serves and a run
decides on — and a truth view: who really lives where, with which status and income.
`GroundTruth(city)` decides the same benefit on the truth view and compares it with a run's
decisions (by subject pseudonym, as the store keeps them):

- truly entitled: eligible on the truth view;
- reached: truly entitled and told eligible by the run; flagged: truly entitled and
  `undetermined` (the household is invited to the desk); missed: the rest;
- wrongly told eligible: eligible in the run but not entitled in truth (or not a household in
  truth), and how many of them where the registry view is current (no member in a grey zone:
  that number must be 0).

The product never imports this module: the demo's dashboard, the benchmarks and the tests wire a
`GroundTruth` into the campaign context (`CampaignContext.reach`), which calls it when a run ends.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from entitle.registry.population import load_population
from entitle.rules.columnar import Population, evaluate_population
from entitle.rules.model import Benefit


class Target(Protocol):
    """Who a campaign looks at (a campaign definition's `target`)."""

    @property
    def kind(self) -> str: ...
    @property
    def municipality_nis(self) -> str: ...
    @property
    def min_age(self) -> int | None: ...


@dataclass(frozen=True)
class GroundTruth:
    """A synthetic city's truth view, to measure a campaign run's reach against."""

    city: Path

    def __call__(
        self,
        benefit: Benefit,
        target: Target,
        as_of: date,
        decided: Mapping[str, str],
        pseudonymise: Callable[[str], str],
        /,
    ) -> dict[str, Any]:
        """The reach of a run that decided `decided` (pseudonym → outcome; see the module doc)."""
        truth = truth_decisions(benefit, target, self.city, as_of)
        not_current = _not_current(benefit, self.city)
        ids = truth["subject_id"].to_list()
        pseudonyms = [pseudonymise(i) for i in ids]
        truth_outcome = dict(zip(pseudonyms, truth["outcome"].to_list(), strict=True))
        current = {p for p, i in zip(pseudonyms, ids, strict=True) if i not in not_current}
        entitled = [p for p, o in truth_outcome.items() if o == "eligible"]
        reached = sum(decided.get(p) == "eligible" for p in entitled)
        flagged = sum(decided.get(p) == "undetermined" for p in entitled)
        missed = len(entitled) - reached - flagged
        told = [p for p, o in decided.items() if o == "eligible"]
        wrong = [p for p in told if truth_outcome.get(p, "absent") in ("not_eligible", "absent")]
        unclear = sum(truth_outcome.get(p) == "undetermined" for p in told)
        # a subject only the registry view has (e.g. a cohabitant's own registration) is not
        # current
        wrong_current = sum(p in current for p in wrong)
        total = len(entitled) or 1
        return {
            "truly_entitled": len(entitled),
            "reached": reached,
            "flagged_undetermined": flagged,
            "missed": missed,
            "missed_current": sum(
                p in current and decided.get(p) not in ("eligible", "undetermined")
                for p in entitled
            ),
            "share_reached": round(reached / total, 4),
            "share_reached_or_flagged": round((reached + flagged) / total, 4),
            "wrongly_eligible": len(wrong),
            "wrongly_eligible_current": wrong_current,
            "eligible_truth_undetermined": unclear,
        }


def truth_decisions(benefit: Benefit, target: Target, city: Path, as_of: date) -> pl.DataFrame:
    """subject_id, outcome on the truth view of the city, for the campaign's target."""
    persons, households = load_population(city, "truth", as_of=as_of)
    if target.kind == "households":
        households = households.filter(pl.col("municipality_nis") == target.municipality_nis)
        persons = persons.join(households.select("household_id"), on="household_id", how="semi")
        subjects = None
    elif target.kind == "pupils":
        subjects = persons.filter(pl.col("city_school_pupil"))["person_id"].to_list()
    else:
        people = persons.filter(pl.col("municipality_nis") == target.municipality_nis)
        if target.min_age is not None:
            try:
                limit = as_of.replace(year=as_of.year - target.min_age)
            except ValueError:
                limit = date(as_of.year - target.min_age, 2, 28)
            people = people.filter(pl.col("birth_date") <= limit)
        subjects = people["person_id"].to_list()
    frame = evaluate_population(benefit, Population(persons, households, subjects), as_of)
    return frame.select("subject_id", "outcome")


def _not_current(benefit: Benefit, city: Path) -> set[str]:
    """Subjects (household ids or person ids) touched by a grey zone in either view."""
    grey = pl.read_parquet(city / "truth" / "grey_zones.parquet").select("person_id")
    households: set[str] = set()
    members = []
    for view in ("registry", "truth"):
        persons = pl.read_parquet(
            city / view / "persons.parquet", columns=["person_id", "household_id"]
        )
        members.append(persons)
        households |= set(persons.join(grey, on="person_id", how="semi")["household_id"].to_list())
    if benefit.subject == "household":
        return households
    everyone = pl.concat(members)
    return set(
        everyone.filter(pl.col("household_id").is_in(list(households)))["person_id"].to_list()
    )
