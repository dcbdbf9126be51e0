"""A city that changes: move a synthetic city forward week by week (`advance_city`).

Each week, deterministically for the city's seed and the week's number, the truth changes
(births, deaths, moves into and out of the municipality, households splitting, increased allowance
granted and ended, leefloon started and stopped, OCMW budget guidance started and stopped, parking
cards issued, tax assessments arriving) at the rates of `advance_rates`. Every change is an event
in ``history/events.parquet`` with the day it happened (``truth_date``) and the day the registries
learn it (``registry_date``, after the lag of its kind); the registry view changes only on that
day, so a right granted this week may appear weeks later. Registry-only changes (an unregistered
cohabitant registering) have no truth change. The city's own datasets (``local/``) change at once.

The week's registry changes are published as notifications in ``notifications/week-NNNN.parquet``
(see `entitle.registry.notifications`): the person mutations of the national register and the
social-status and assessment mutations of the KSZ and FOD Financiën, never the data itself.
``meta.json`` gets the new ``reference_date`` and the number of weeks advanced (``week``).

This module is the clock; each kind of change has its module: `advance_lives` (births, deaths),
`advance_moves` (arrivals, departures, splits, registrations), `advance_statuses` (social statuses,
OCMW help), `advance_tax` (assessments); `advance_registry` applies the due events to the registry
view and `advance_publish` collects their notifications; `advance_files` reads and writes the city.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
import polars as pl

from entitle.registry.advance_files import load_city, save_city
from entitle.registry.advance_frames import tidy_households
from entitle.registry.advance_lives import births, deaths
from entitle.registry.advance_moves import arrivals, departures, registrations, splits
from entitle.registry.advance_publish import Publisher
from entitle.registry.advance_registry import LOCAL_ONLY, apply, lagged_statuses, registry_lag_zone
from entitle.registry.advance_state import (
    EVENT_SCHEMA,
    AdvanceError,
    City,
    events_path,
    notifications_path,
)
from entitle.registry.advance_statuses import statuses
from entitle.registry.advance_tax import assessments

__all__ = ["AdvanceError", "WeekReport", "advance_city", "events_path", "notifications_path"]

MAX_WEEKS: Final = 520


@dataclass(frozen=True)
class WeekReport:
    """What one week changed: events per kind (truth), registry changes and notifications."""

    week: int
    reference_date: date
    events: dict[str, int]
    registry_changes: int
    notifications: int


_TRUTH_STEPS: Final[tuple[Callable[[City, np.random.Generator, date, set[str]], None], ...]] = (
    deaths,
    births,
    departures,
    arrivals,
    splits,
    registrations,
    statuses,
    assessments,
)


def _one_week(city: City) -> tuple[WeekReport, list[dict[str, Any]]]:
    week = int(city.meta.get("week", 0)) + 1
    seed = int(city.meta.get("seed", 0))
    rng = np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(1000 + week,)))
    start = city.reference
    end = start + timedelta(days=7)
    if week == 1 and not city.events.height:
        lagged_statuses(city)
    touched: set[str] = set()
    first_new = len(city.new_events)
    for step in _TRUTH_STEPS:
        step(city, rng, start, touched)
    counts: dict[str, int] = {}
    for row in city.new_events[first_new:]:
        counts[row["kind"]] = counts.get(row["kind"], 0) + 1
    for row in city.new_events:  # local datasets change at once: nothing waits
        if row["kind"] in LOCAL_ONLY:
            row["applied"] = True
    if city.new_events:
        city.events = pl.concat([city.events, pl.DataFrame(city.new_events, schema=EVENT_SCHEMA)])
        city.new_events = []
    due = city.events.filter(~pl.col("applied") & (pl.col("registry_date") <= end)).sort(
        "registry_date", "event"
    )
    publisher = Publisher()
    for event in due.iter_rows(named=True):
        apply(city, event, publisher)
    city.events = city.events.with_columns(
        (pl.col("applied") | pl.col("event").is_in(due["event"].to_list())).alias("applied")
    )
    registry_lag_zone(city, city.events.filter(~pl.col("applied")))
    for view in ("registry", "truth"):
        city.t[f"{view}/households.parquet"] = tidy_households(
            city.t[f"{view}/persons.parquet"], city.t[f"{view}/households.parquet"]
        )
    city.meta["week"] = week
    city.meta["reference_date"] = end.isoformat()
    report = WeekReport(week, end, counts, due.height, len(publisher.rows))
    return report, publisher.rows


def advance_city(
    directory: Path | str, weeks: int, on_week: Callable[[WeekReport], None] | None = None
) -> list[WeekReport]:
    """Move the city in `directory` forward `weeks` weeks; write it back; one report per week.

    Deterministic: the same city, seed and number of weeks give the same files, whether advanced
    in one call or week by week."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise AdvanceError(f"--weeks must be between 1 and {MAX_WEEKS}, got {weeks}")
    root = Path(directory)
    city = load_city(root)
    reports = []
    published: dict[int, list[dict[str, Any]]] = {}
    for _ in range(weeks):
        report, rows = _one_week(city)
        published[report.week] = rows
        reports.append(report)
        if on_week is not None:
            on_week(report)
    try:
        save_city(city, published)
    except OSError as exc:
        raise AdvanceError(f"cannot write the city to {root}: {exc}") from None
    return reports
