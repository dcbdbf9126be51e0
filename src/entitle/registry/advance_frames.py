"""Row-level edits of the city's tables (polars frames) that the weekly changes share."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import polars as pl

__all__ = [
    "append",
    "end_status",
    "find_row",
    "household_row",
    "open_status",
    "set_rows",
    "start_status",
    "tidy_households",
]


def set_rows(frame: pl.DataFrame, key: str, ids: Iterable[str], **values: Any) -> pl.DataFrame:
    """`frame` with `values` set on the rows whose `key` is one of `ids`."""
    wanted = pl.col(key).is_in(list(ids))
    return frame.with_columns(
        pl.when(wanted).then(pl.lit(v, dtype=frame.schema[c])).otherwise(pl.col(c)).alias(c)
        for c, v in values.items()
    )


def find_row(frame: pl.DataFrame, key: str, value: str) -> dict[str, Any] | None:
    """The first row whose `key` is `value`, as a dict; None when there is none."""
    found = frame.filter(pl.col(key) == value)
    return found.row(0, named=True) if found.height else None


def append(frame: pl.DataFrame, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """`frame` with `rows` added at the end (in its schema)."""
    if not rows:
        return frame
    return pl.concat([frame, pl.DataFrame(rows, schema=frame.schema)], how="vertical")


def open_status(frame: pl.DataFrame, status: str, on: date) -> set[str]:
    """The persons with an open period of `status` on `on`."""
    active = frame.filter(
        (pl.col("status") == status)
        & (pl.col("start") <= on)
        & (pl.col("end").is_null() | (pl.col("end") >= on))
    )
    return set(active["person_id"].to_list())


def start_status(frame: pl.DataFrame, person: str, status: str, day: date) -> pl.DataFrame:
    """`frame` with a new open period of `status` for `person` from `day`."""
    return append(frame, [{"person_id": person, "status": status, "start": day, "end": None}])


def end_status(frame: pl.DataFrame, person: str, status: str | None, day: date) -> pl.DataFrame:
    """`frame` with the person's open periods (of `status`, or all) ended on `day`."""
    match = (pl.col("person_id") == person) & pl.col("end").is_null()
    if status is not None:
        match &= pl.col("status") == status
    return frame.with_columns(
        pl.when(match).then(pl.lit(day)).otherwise(pl.col("end")).alias("end")
    )


def household_row(household_id: str, reference: str, address: dict[str, Any]) -> dict[str, Any]:
    """A new private household of one at `address`."""
    return {
        "household_id": household_id,
        "reference_person_id": reference,
        **address,
        "size": 1,
        "collective": False,
        "reference_address": False,
    }


def tidy_households(persons: pl.DataFrame, households: pl.DataFrame) -> pl.DataFrame:
    """Sizes from the members; no empty private household; a reference person who is a member."""
    sizes = persons.group_by("household_id").agg(
        pl.len().cast(pl.Int32).alias("members"), pl.col("person_id").first().alias("first_member")
    )
    joined = households.join(sizes, on="household_id", how="left", maintain_order="left")
    member_ids = persons.select("person_id", pl.col("household_id").alias("member_of"))
    joined = joined.join(
        member_ids,
        left_on="reference_person_id",
        right_on="person_id",
        how="left",
        maintain_order="left",
    )
    return (
        joined.filter(pl.col("members").is_not_null())
        .with_columns(
            pl.col("members").alias("size"),
            pl.when(pl.col("collective"))
            .then(pl.col("reference_person_id"))
            .when(pl.col("member_of") == pl.col("household_id"))
            .then(pl.col("reference_person_id"))
            .otherwise(pl.col("first_member"))
            .alias("reference_person_id"),
        )
        .select(households.columns)
    )
