"""The advancing city in memory: its tables, its event log and the identifiers it hands out.

An event is one change of the truth (``truth_date``) and the day the registries learn it
(``registry_date``, after the lag of its kind, `advance_rates.LAGS`); ``applied`` once the registry
view shows it. The history is ``history/events.parquet``, each week's notifications
``notifications/week-NNNN.parquet``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
import polars as pl

from entitle.insz import make_insz
from entitle.registry.advance_rates import LAGS

__all__ = [
    "EVENT_SCHEMA",
    "TABLES",
    "AdvanceError",
    "City",
    "city_address",
    "events_path",
    "notifications_path",
    "private_households",
]

EVENT_SCHEMA: Final[dict[str, Any]] = {
    "event": pl.Int64(),
    "week": pl.Int32(),
    "kind": pl.String(),
    "person_id": pl.String(),
    "household_id": pl.String(),
    "truth_date": pl.Date(),
    "registry_date": pl.Date(),
    "status": pl.String(),
    "income_year": pl.Int32(),
    "value": pl.Int64(),
    "detail": pl.String(),  # the new address (JSON) of a departure, the position of a registration
    "applied": pl.Boolean(),
}


TABLES: Final = (
    "registry/persons.parquet",
    "truth/persons.parquet",
    "registry/households.parquet",
    "truth/households.parquet",
    "registry/social_statuses.parquet",
    "truth/social_statuses.parquet",
    "registry/tax_assessments.parquet",
    "truth/tax_assessments.parquet",
    "registry/disability.parquet",
    "local/ocmw_clients.parquet",
    "truth/grey_zones.parquet",
)


class AdvanceError(ValueError):
    """The city cannot be moved forward as asked; the message says why."""


def events_path(directory: Path) -> Path:
    """The city's history of events."""
    return directory / "history" / "events.parquet"


def notifications_path(directory: Path, week: int) -> Path:
    """The notifications published in `week`."""
    return directory / "notifications" / f"week-{week:04d}.parquet"


@dataclass
class City:
    """The city being advanced: its tables by path, its events and the week's new ones."""

    root: Path
    meta: dict[str, Any]
    t: dict[str, pl.DataFrame]
    events: pl.DataFrame
    next_event: int
    next_household: int
    used_insz: set[str]
    new_events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def reference(self) -> date:
        return date.fromisoformat(str(self.meta["reference_date"]))

    @property
    def nis(self) -> str:
        return str(self.meta.get("municipality_nis", "44021"))

    def new_household_id(self) -> str:
        self.next_household += 1
        return f"H{self.next_household:08d}"

    def new_insz(self, birth: date, male: bool) -> str:
        counter = 1 if male else 2
        while True:
            number = make_insz(birth, counter, kind="test").normalized
            if number not in self.used_insz:
                self.used_insz.add(number)
                return number
            counter += 2
            if counter > 998:
                birth -= timedelta(days=1)
                counter = 1 if male else 2

    def event(
        self, kind: str, person: str, day: date, lag_rng: np.random.Generator, **extra: Any
    ) -> None:
        low, high = LAGS.get(kind, (0, 0))
        lag = int(lag_rng.integers(low, high + 1)) if high > low else low
        row: dict[str, Any] = dict.fromkeys(EVENT_SCHEMA)
        row.update(
            event=self.next_event,
            week=int(self.meta.get("week", 0)) + 1,
            kind=kind,
            person_id=person,
            truth_date=day,
            registry_date=day + timedelta(days=lag),
            applied=False,
        )
        row.update(extra)
        self.next_event += 1
        self.new_events.append(row)


def city_address(city: City, rng: np.random.Generator) -> dict[str, Any]:
    """A random address in the municipality: a street of one of its households."""
    homes = city.t["truth/households.parquet"].filter(
        (pl.col("municipality_nis") == city.nis) & pl.col("street").is_not_null()
    )
    home = homes.row(int(rng.integers(0, homes.height)), named=True)
    return {
        "municipality_nis": city.nis,
        "postcode": home["postcode"],
        "street": home["street"],
        "house_number": str(int(rng.integers(1, 250))),
    }


def private_households(city: City) -> pl.DataFrame:
    """The truth's private households in the municipality (not collective, no reference
    address)."""
    return city.t["truth/households.parquet"].filter(
        ~pl.col("collective")
        & ~pl.col("reference_address")
        & (pl.col("municipality_nis") == city.nis)
    )
