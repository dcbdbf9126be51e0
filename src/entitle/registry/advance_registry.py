"""The registry view of the advancing city: applying each due event (on its ``registry_date``)
and publishing its notifications; the status periods still waiting in the registry lag."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Final

import polars as pl

from entitle.registry.advance_frames import append, end_status, find_row, set_rows
from entitle.registry.advance_publish import (
    ADDED,
    ADDRESS,
    BIRTH,
    DEATH,
    ENDED,
    HOUSEHOLD,
    MODIFIED,
    NEW_PERSON,
    Publisher,
)
from entitle.registry.advance_state import EVENT_SCHEMA, City
from entitle.registry.synth_money import REGISTRY_LAG_DAYS

__all__ = ["LOCAL_ONLY", "apply", "lagged_statuses", "registry_lag_zone"]

STATUS_STARTS: Final = frozenset(
    {"vt_granted", "leefloon_started", "parking_card", "status_started"}
)


STATUS_ENDS: Final = frozenset({"vt_ended", "leefloon_stopped"})


LOCAL_ONLY: Final = frozenset({"guidance_started", "guidance_stopped"})


ADDRESS_COLUMNS: Final = ("municipality_nis", "postcode", "street", "house_number")


def _registry_address(
    city: City, household: str | None, fallback: dict[str, Any]
) -> dict[str, Any]:
    for table in ("registry/households.parquet", "truth/households.parquet"):
        row = find_row(city.t[table], "household_id", household) if household else None
        if row is not None:
            return {c: row[c] for c in ADDRESS_COLUMNS}
    return {c: fallback[c] for c in ADDRESS_COLUMNS}


def _copy_person(city: City, person: str, household: str | None) -> dict[str, Any] | None:
    row = find_row(city.t["truth/persons.parquet"], "person_id", person)
    if row is None:
        return None
    row.pop("second_household_id", None)
    row["household_id"] = household or row["household_id"]
    row.update(_registry_address(city, row["household_id"], row))
    return row


def _ensure_household(city: City, household: str | None) -> None:
    registry = city.t["registry/households.parquet"]
    if household is None or find_row(registry, "household_id", household) is not None:
        return
    row = find_row(city.t["truth/households.parquet"], "household_id", household)
    if row is not None:
        city.t["registry/households.parquet"] = append(registry, [row])


def _registered(city: City, event: dict[str, Any], out: Publisher) -> bool:
    """A birth or an arrival: the person enters the registry in their household."""
    person, when = event["person_id"], event["registry_date"]
    persons = city.t["registry/persons.parquet"]
    current = find_row(persons, "person_id", person)
    _ensure_household(city, event["household_id"])
    row = _copy_person(city, person, event["household_id"])
    if row is None or current is not None:
        return False
    city.t["registry/persons.parquet"] = append(persons, [row])
    if event["kind"] == "birth":
        out.person(person, BIRTH, ADDED, when, NEW_PERSON)
    out.person(person, ADDRESS, ADDED if event["kind"] == "birth" else MODIFIED, when)
    out.person(person, HOUSEHOLD, MODIFIED, when)
    out.members(persons, event["household_id"], when, person)
    return True


def _died(city: City, event: dict[str, Any], current: dict[str, Any], out: Publisher) -> bool:
    person, when = event["person_id"], event["registry_date"]
    persons = city.t["registry/persons.parquet"]
    city.t["registry/persons.parquet"] = persons.filter(pl.col("person_id") != person)
    city.t["registry/social_statuses.parquet"] = end_status(
        city.t["registry/social_statuses.parquet"], person, None, event["truth_date"]
    )
    out.person(person, DEATH, ADDED, when)
    out.members(persons, current["household_id"], when, person)
    return True


def _departed(city: City, event: dict[str, Any], current: dict[str, Any], out: Publisher) -> bool:
    person = event["person_id"]
    address = json.loads(event["detail"])
    city.t["registry/persons.parquet"] = set_rows(
        city.t["registry/persons.parquet"], "person_id", [person], **address
    )
    city.t["registry/households.parquet"] = set_rows(
        city.t["registry/households.parquet"],
        "household_id",
        [current["household_id"]],
        **address,
    )
    out.person(person, ADDRESS, MODIFIED, event["registry_date"])
    return True


def _moved_in(city: City, event: dict[str, Any], current: dict[str, Any], out: Publisher) -> bool:
    """A split (the person's own new household) or a cohabitant registering at the address."""
    person, when = event["person_id"], event["registry_date"]
    persons = city.t["registry/persons.parquet"]
    _ensure_household(city, event["household_id"])
    address = _registry_address(city, event["household_id"], current)
    position = "01" if event["kind"] == "split" else (event["detail"] or "01")
    city.t["registry/persons.parquet"] = set_rows(
        persons,
        "person_id",
        [person],
        household_id=event["household_id"],
        position_code=position,
        **address,
    )
    out.person(person, ADDRESS, MODIFIED, when)
    out.person(person, HOUSEHOLD, MODIFIED, when)
    out.members(persons, current["household_id"], when, person)
    out.members(persons, event["household_id"], when, person)
    return True


def _status(city: City, event: dict[str, Any], current: dict[str, Any], out: Publisher) -> bool:
    """A social status started or ended, as the KSZ learns it."""
    kind, person, day = event["kind"], event["person_id"], event["truth_date"]
    if not current["integrated_ksz"]:
        return False  # the KSZ has no data on this person: the registry never shows it
    statuses = city.t["registry/social_statuses.parquet"]
    if kind in STATUS_STARTS:
        period = city.t["truth/social_statuses.parquet"].filter(
            (pl.col("person_id") == person)
            & (pl.col("status") == event["status"])
            & (pl.col("start") == day)
        )
        end = period["end"][0] if period.height else None
        statuses = append(
            statuses,
            [{"person_id": person, "status": event["status"], "start": day, "end": end}],
        )
    else:
        statuses = end_status(statuses, person, event["status"], day)
    city.t["registry/social_statuses.parquet"] = statuses
    mutation = ADDED if kind in STATUS_STARTS else ENDED
    out.general(person, "KSZ", event["status"], mutation, event["registry_date"])
    return True


def _assessed(city: City, event: dict[str, Any], current: dict[str, Any], out: Publisher) -> bool:
    """A tax assessment reaches FOD Financiën's registry (not for foreign income only)."""
    person = event["person_id"]
    hidden = city.t["truth/grey_zones.parquet"].filter(
        (pl.col("kind") == "no_assessment") & (pl.col("person_id") == person)
    )
    if hidden.height:
        return False  # foreign income only: no Belgian assessment in the registry
    year = int(event["income_year"])
    item = {
        "person_id": person,
        "income_year": year,
        "tax_year": year + 1,
        "fiscal_status": "A",
        "item_code": "A7555",
        "item_value": int(event["value"]),
        "article_number": event["detail"],
    }
    city.t["registry/tax_assessments.parquet"] = append(
        city.t["registry/tax_assessments.parquet"], [item]
    )
    out.general(person, "FODFIN", "AANSLAG", ADDED, event["registry_date"])
    return True


_Change = Callable[[City, dict[str, Any], dict[str, Any], Publisher], bool]
# How each kind of event changes the registry view of a person it already holds.
_CHANGES: Final[dict[str, _Change]] = {
    "death": _died,
    "departure": _departed,
    "split": _moved_in,
    "registers": _moved_in,
    "tax_assessed": _assessed,
    **dict.fromkeys(STATUS_STARTS | STATUS_ENDS, _status),
}


def apply(city: City, event: dict[str, Any], out: Publisher) -> bool:
    """Apply one event to the registry view; False when the registry never learns it."""
    if event["kind"] in ("birth", "arrival"):
        return _registered(city, event, out)
    current = find_row(city.t["registry/persons.parquet"], "person_id", event["person_id"])
    change = _CHANGES.get(event["kind"])
    if current is None or change is None:
        return False
    return change(city, event, current, out)


def lagged_statuses(city: City) -> None:
    """At the first advance: the status periods the truth has and the registry does not yet show
    (the registry-lag grey zone) become events that reach the registry 45 days after they began."""
    truth = city.t["truth/social_statuses.parquet"]
    registry = city.t["registry/social_statuses.parquet"]
    integrated = city.t["registry/persons.parquet"].filter(pl.col("integrated_ksz"))["person_id"]
    waiting = truth.join(registry, on=["person_id", "status", "start"], how="anti").filter(
        pl.col("person_id").is_in(integrated.to_list())
    )
    kinds = {
        "BIM_BVT": "vt_granted",
        "LIVING_WAGES_PCSA_HELP": "leefloon_started",
        "GENT_PARKING_ADULT": "parking_card",
    }
    for row in waiting.sort("start", "person_id").iter_rows(named=True):
        record: dict[str, Any] = dict.fromkeys(EVENT_SCHEMA)
        record.update(
            event=city.next_event,
            week=0,
            kind=kinds.get(row["status"], "status_started"),
            person_id=row["person_id"],
            truth_date=row["start"],
            registry_date=row["start"] + timedelta(days=REGISTRY_LAG_DAYS),
            status=row["status"],
            applied=False,
        )
        city.next_event += 1
        city.new_events.append(record)


def registry_lag_zone(city: City, pending: pl.DataFrame) -> None:
    """The `registry_lag` grey zone: the persons whose status changes still wait (`pending`)."""
    grey = city.t["truth/grey_zones.parquet"]
    lagging = pending.filter(pl.col("kind").is_in(list(STATUS_STARTS)))["person_id"].unique().sort()
    households = city.t["truth/persons.parquet"].select("person_id", "household_id")
    rows = (
        pl.DataFrame({"person_id": lagging})
        .join(households, on="person_id", how="inner", maintain_order="left")
        .with_columns(pl.lit("registry_lag").alias("kind"))
    )
    present = set(households["person_id"].to_list())
    kept = grey.filter(
        (pl.col("kind") != "registry_lag") & pl.col("person_id").is_in(list(present))
    )
    city.t["truth/grey_zones.parquet"] = pl.concat(
        [kept, rows.select(grey.columns)], how="vertical"
    )
