"""The week's notifications as the advancing city publishes them: one row per person, feed,
information type and mutation type, never the data itself (`entitle.registry.notifications`
serves them in MAGDA's formats)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import polars as pl

__all__ = [
    "ADDED",
    "ADDRESS",
    "BIRTH",
    "DEATH",
    "ENDED",
    "HOUSEHOLD",
    "MODIFIED",
    "NEW_PERSON",
    "NOTIFICATION_SCHEMA",
    "Publisher",
]

NOTIFICATION_SCHEMA: Final[dict[str, Any]] = {
    "feed": pl.String(),  # persoon (national register) or algemeen (social security, tax)
    "source": pl.String(),  # RR, KSZ, FODFIN
    "person_id": pl.String(),
    "notification_type": pl.String(),  # 1 new person, 2 mutation
    "information": pl.String(),  # 001 address, 100 birth, 140 household, 150 death; a status…
    "mutation": pl.String(),  # 1 added, 2 modified, 3 ended
    "day": pl.Date(),
}
# National-register information types (RR) and mutation types of GeefPersoonMutatiesNotificaties.
ADDRESS, BIRTH, HOUSEHOLD, DEATH = "001", "100", "140", "150"
ADDED, MODIFIED, ENDED = "1", "2", "3"
NEW_PERSON, MUTATION = "1", "2"


@dataclass
class Publisher:
    """Collects the week's notifications (one row per person, information type and mutation)."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def person(self, insz: str, info: str, mutation: str, day: date, kind: str = MUTATION) -> None:
        self.rows.append(
            {
                "feed": "persoon",
                "source": "RR",
                "person_id": insz,
                "notification_type": kind,
                "information": info,
                "mutation": mutation,
                "day": day,
            }
        )

    def members(self, registry: pl.DataFrame, household: str | None, day: date, skip: str) -> None:
        if household is None:
            return
        for insz in registry.filter(pl.col("household_id") == household)["person_id"].to_list():
            if insz != skip:
                self.person(insz, HOUSEHOLD, MODIFIED, day)

    def general(self, insz: str, source: str, info: str, mutation: str, day: date) -> None:
        self.rows.append(
            {
                "feed": "algemeen",
                "source": source,
                "person_id": insz,
                "notification_type": MUTATION,
                "information": info,
                "mutation": mutation,
                "day": day,
            }
        )
