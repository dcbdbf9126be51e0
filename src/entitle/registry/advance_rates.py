"""The rates at which the synthetic city changes week by week, and how late the registries learn it.

Yearly rates, turned into weekly chances by `weekly`; each is stated with its source or reasoning
in docs/synthetic-city.md ("A city that changes") and printed by `entitle synth --report`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

WEEKS_PER_YEAR: Final = 52.18


@dataclass(frozen=True)
class Rate:
    """A yearly rate of one kind of change: per `per` (the population it applies to)."""

    kind: str
    per_year: float
    per: str
    source: str


RATES: Final = (
    Rate("birth", 0.0115, "person", "Ghent ~11-12 births per 1,000 (Statbel 2022)"),
    Rate("death", 0.0085, "person", "Ghent ~8-9 deaths per 1,000, a young city (Statbel 2022)"),
    Rate("arrival", 0.060, "person", "~16,000 newcomers a year in Ghent (~6%), Statbel migration"),
    Rate("departure", 0.055, "person", "~15,000 leave a year (~5.5%), Statbel migration"),
    Rate("split", 0.015, "household", "adult children leaving home and separations, ~1.5%"),
    Rate("registers", 0.25, "unregistered cohabitant", "about one in four register within a year"),
    Rate(
        "vt_granted", 0.012, "person without VT", "RIZIV: ~120,000 new VT files a year nationally"
    ),
    Rate("vt_ended", 0.07, "VT holder", "income re-examinations end ~7% a year"),
    Rate("leefloon_started", 0.013, "adult 18-64 without", "new files; mean spell ~600 days"),
    Rate("leefloon_stopped", 365 / 600, "leefloon recipient", "mean spell ~600 days (POD MI)"),
    Rate("guidance_started", 0.0035, "adult", "OCMW budget guidance intake"),
    Rate("guidance_stopped", 0.30, "person in guidance", "guidance lasts ~3 years on average"),
    Rate("parking_card", 0.06, "recognised disabled adult", "cards issued on request"),
)
RATE_BY_KIND: Final = {rate.kind: rate for rate in RATES}

# Registry lag: days (low, high) between a change in the truth and its appearance in the registry.
LAGS: Final[dict[str, tuple[int, int]]] = {
    "birth": (0, 7),  # declared at the civil registry within days
    "death": (0, 7),
    "arrival": (7, 28),  # registration after the police check of the address
    "departure": (7, 28),
    "split": (7, 28),
    "registers": (0, 0),  # the registration is itself the registry change
    "vt_granted": (0, 45),  # the health insurer's file reaches the KSZ (REGISTRY_LAG_DAYS)
    "vt_ended": (0, 45),
    "leefloon_started": (0, 30),  # the OCMW's declaration to the POD MI
    "leefloon_stopped": (0, 30),
    "parking_card": (0, 30),
    "tax_assessed": (0, 0),  # the assessment is the fact
}

LATE_ASSESSMENT_DEADLINE: Final = (6, 30)  # late assessments of a year arrive by 30 June next year
# Share of a new income year's assessments sent in each week after 1 July (the yearly wave):
# most in July-September, the rest until the end of June.
WAVE_WEEKS_MAIN: Final = 13
WAVE_MAIN_SHARE: Final = 0.85


def weekly(per_year: float) -> float:
    """The chance in one week of a change that happens at `per_year` a year."""
    return float(1.0 - (1.0 - min(per_year, 0.999)) ** (1.0 / WEEKS_PER_YEAR))


def wave_share(day: date, income_year: int) -> float:
    """The chance that a not yet assessed person of `income_year` is assessed in the week before
    `day`: zero before 1 July of the next year; spread over the main wave, then the tail."""
    start = date(income_year + 1, 7, 1)
    if day < start:
        return 0.0
    week = (day - start).days // 7
    if week < WAVE_WEEKS_MAIN:
        per_week = WAVE_MAIN_SHARE / WAVE_WEEKS_MAIN  # of all, evenly over the main wave
        return per_week / (1.0 - per_week * week)
    return late_share(day, income_year)


def late_share(day: date, income_year: int) -> float:
    """The chance that a late assessment of `income_year` arrives in the week before `day`: the
    remaining ones spread evenly until the deadline (30 June of the second year)."""
    month, dom = LATE_ASSESSMENT_DEADLINE
    deadline = date(income_year + 2, month, dom)
    weeks_left = max((deadline - day).days / 7, 1.0)
    return min(1.0, 1.0 / weeks_left)
