"""bench/watch.py's miss attribution: a week's changes belong to the households of that week."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from watch import _why_missed, attribute  # noqa: E402

DAYS = {0: date(2026, 3, 22), 1: date(2026, 3, 29), 2: date(2026, 4, 5), 3: date(2026, 4, 12)}


def snapshot(*rows: tuple[str, str]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["person_id", "household_id"], orient="row")


def events(*rows: tuple[int, str, str, date, date]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "week": pl.Int32,
            "kind": pl.String,
            "person_id": pl.String,
            "truth_date": pl.Date,
            "registry_date": pl.Date,
        },
        orient="row",
    )


# The partner of H1 is granted the increased allowance on the week-1 day (registry a week later)
# and dies in week 2, before the registry view shows the allowance; a child is born into H2.
SNAPSHOTS = {
    0: snapshot(("p1", "H1"), ("p2", "H1"), ("m", "H2")),
    1: snapshot(("p1", "H1"), ("p2", "H1"), ("m", "H2")),
    2: snapshot(("p1", "H1"), ("m", "H2"), ("c", "H2")),
    3: snapshot(("p1", "H1"), ("m", "H2"), ("c", "H2")),
}
EVENTS = events(
    (1, "vt_granted", "p2", date(2026, 3, 29), date(2026, 4, 4)),
    (2, "death", "p2", date(2026, 4, 1), date(2026, 4, 5)),
    (2, "birth", "c", date(2026, 4, 2), date(2026, 4, 3)),
)


def test_a_dead_persons_changes_stay_with_the_household_of_their_week() -> None:
    found = attribute(EVENTS, SNAPSHOTS)
    assert found.select("week", "person_id", "household_id_truth").rows() == [
        (1, "p2", "H1"),
        (2, "p2", "H1"),
        (2, "c", "H2"),
    ]


def test_an_entitlement_that_ends_before_the_registry_shows_it_is_no_follow_up_miss() -> None:
    truth = {0: set(), 1: {"H1"}, 2: set(), 3: set()}
    found = attribute(EVENTS, SNAPSHOTS)
    mine = found.filter((pl.col("household_id_truth") == "H1") & (pl.col("week") == 1))
    why = _why_missed("H1", 1, sorted(DAYS), truth, DAYS, mine)
    assert why == "entitlement ended within the registry lag"
