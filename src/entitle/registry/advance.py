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
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
import polars as pl

from entitle.insz import make_insz
from entitle.registry.advance_rates import LAGS, RATE_BY_KIND, wave_share, weekly
from entitle.registry.synth import write_parquet
from entitle.registry.synth_money import REGISTRY_LAG_DAYS

__all__ = ["AdvanceError", "WeekReport", "advance_city", "events_path", "notifications_path"]

MAX_WEEKS: Final = 520
ELSEWHERE: Final = {"44021": ("11002", "2000", "Meir"), "": ("44021", "9000", "Veldstraat")}
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
NOTIFICATION_SCHEMA: Final[dict[str, Any]] = {
    "feed": pl.String(),  # persoon (national register) or algemeen (social security, tax)
    "source": pl.String(),  # RR, KSZ, FODFIN
    "person_id": pl.String(),
    "notification_type": pl.String(),  # 1 new person, 2 mutation
    "information": pl.String(),  # 001 address, 100 birth, 140 household, 150 death; a status…
    "mutation": pl.String(),  # 1 added, 2 modified, 3 ended
    "day": pl.Date(),
}
_TABLES: Final = (
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
_ADDRESS: Final = ("municipality_nis", "postcode", "street", "house_number")


class AdvanceError(ValueError):
    """The city cannot be moved forward as asked; the message says why."""


@dataclass(frozen=True)
class WeekReport:
    """What one week changed: events per kind (truth), registry changes and notifications."""

    week: int
    reference_date: date
    events: dict[str, int]
    registry_changes: int
    notifications: int


def events_path(directory: Path) -> Path:
    return directory / "history" / "events.parquet"


def notifications_path(directory: Path, week: int) -> Path:
    return directory / "notifications" / f"week-{week:04d}.parquet"


# ----------------------------------------------------------------------------- the city in memory


@dataclass
class _City:
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


def _load(root: Path) -> _City:
    try:
        meta = json.loads((root / "meta.json").read_text(encoding="utf-8"))
        tables = {path: pl.read_parquet(root / path) for path in _TABLES}
    except FileNotFoundError as exc:
        raise AdvanceError(f"{root} holds no complete synthetic city ({exc.filename})") from None
    except (OSError, ValueError, pl.exceptions.PolarsError) as exc:
        raise AdvanceError(f"cannot read the city in {root}: {exc}") from None
    path = events_path(root)
    events = pl.read_parquet(path) if path.is_file() else pl.DataFrame(schema=EVENT_SCHEMA)
    households = pl.concat(
        [
            tables["registry/households.parquet"]["household_id"],
            tables["truth/households.parquet"]["household_id"],
        ]
    )
    used = set(tables["truth/persons.parquet"]["person_id"].to_list())
    used.update(tables["registry/persons.parquet"]["person_id"].to_list())
    return _City(
        root=root,
        meta=meta,
        t=tables,
        events=events,
        next_event=int(events["event"].cast(pl.Int64).fill_null(0).max() or 0) + 1,  # type: ignore[arg-type]
        next_household=int(households.str.slice(1).cast(pl.Int64).max() or 0),  # type: ignore[arg-type]
        used_insz=used,
    )


def _ages(persons: pl.DataFrame, on: date) -> np.ndarray:
    birth = persons["birth_date"]
    years = on.year - birth.dt.year().to_numpy()
    later = (birth.dt.month().to_numpy() > on.month) | (
        (birth.dt.month().to_numpy() == on.month) & (birth.dt.day().to_numpy() > on.day)
    )
    return np.asarray(years - later, dtype=np.int64)


def _pick(
    rng: np.random.Generator, candidates: list[str], per_year: float, touched: set[str]
) -> list[str]:
    """Each candidate independently with the week's chance, skipping those changed this week."""
    if not candidates:
        return []
    chosen = np.flatnonzero(rng.random(len(candidates)) < weekly(per_year))
    picked = [candidates[i] for i in chosen if candidates[i] not in touched]
    touched.update(picked)
    return picked


def _days(rng: np.random.Generator, start: date, count: int) -> list[date]:
    return [start + timedelta(days=int(d)) for d in rng.integers(1, 8, size=count)]


# ----------------------------------------------------------------------------- truth changes


def _set_rows(frame: pl.DataFrame, key: str, ids: Iterable[str], **values: Any) -> pl.DataFrame:
    wanted = pl.col(key).is_in(list(ids))
    return frame.with_columns(
        pl.when(wanted).then(pl.lit(v, dtype=frame.schema[c])).otherwise(pl.col(c)).alias(c)
        for c, v in values.items()
    )


def _row(frame: pl.DataFrame, key: str, value: str) -> dict[str, Any] | None:
    found = frame.filter(pl.col(key) == value)
    return found.row(0, named=True) if found.height else None


def _append(frame: pl.DataFrame, rows: list[dict[str, Any]]) -> pl.DataFrame:
    if not rows:
        return frame
    return pl.concat([frame, pl.DataFrame(rows, schema=frame.schema)], how="vertical")


def _open_status(frame: pl.DataFrame, status: str, on: date) -> set[str]:
    active = frame.filter(
        (pl.col("status") == status)
        & (pl.col("start") <= on)
        & (pl.col("end").is_null() | (pl.col("end") >= on))
    )
    return set(active["person_id"].to_list())


def _start_status(frame: pl.DataFrame, person: str, status: str, day: date) -> pl.DataFrame:
    return _append(frame, [{"person_id": person, "status": status, "start": day, "end": None}])


def _end_status(frame: pl.DataFrame, person: str, status: str | None, day: date) -> pl.DataFrame:
    match = (pl.col("person_id") == person) & pl.col("end").is_null()
    if status is not None:
        match &= pl.col("status") == status
    return frame.with_columns(
        pl.when(match).then(pl.lit(day)).otherwise(pl.col("end")).alias("end")
    )


def _set_local(city: _City, person: str, **flags: bool) -> None:
    frame = city.t["local/ocmw_clients.parquet"]
    if person not in set(frame["person_id"].to_list()):
        blank = {
            "person_id": person,
            "leefloon_or_equivalent": False,
            "debt_help": False,
            "budget_guidance": False,
        }
        frame = _append(frame, [blank])
    city.t["local/ocmw_clients.parquet"] = _set_rows(frame, "person_id", [person], **flags)


def _city_address(city: _City, rng: np.random.Generator) -> dict[str, Any]:
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


def _household_row(household_id: str, reference: str, address: dict[str, Any]) -> dict[str, Any]:
    return {
        "household_id": household_id,
        "reference_person_id": reference,
        **address,
        "size": 1,
        "collective": False,
        "reference_address": False,
    }


def _private_households(city: _City) -> pl.DataFrame:
    return city.t["truth/households.parquet"].filter(
        ~pl.col("collective")
        & ~pl.col("reference_address")
        & (pl.col("municipality_nis") == city.nis)
    )


def _births(city: _City, rng: np.random.Generator, start: date, touched: set[str]) -> None:
    persons = city.t["truth/persons.parquet"]
    homes = set(_private_households(city)["household_id"].to_list())
    ages = _ages(persons, start)
    mothers = persons.filter(
        pl.Series((ages >= 20) & (ages <= 42))
        & (pl.col("sex") == "F")
        & pl.col("position_code").is_in(["01", "02"])
        & pl.col("household_id").is_in(list(homes))
    )
    # births are counted on the whole population, then given to mothers
    count = int(rng.binomial(persons.height, weekly(RATE_BY_KIND["birth"].per_year)))
    free = [m for m in mothers["person_id"].to_list() if m not in touched]
    if not free or not count:
        return
    chosen = rng.choice(len(free), size=min(count, len(free)), replace=False)
    names = persons["first_name"].to_list()
    registry = city.t["registry/persons.parquet"]
    for index, day in zip(chosen, _days(rng, start, len(chosen)), strict=True):
        mother = _row(persons, "person_id", free[int(index)])
        assert mother is not None
        touched.add(mother["person_id"])
        male = bool(rng.random() < 0.51)
        child = dict(mother)
        child.update(
            person_id=city.new_insz(day, male),
            position_code="03",
            first_name=names[int(rng.integers(0, len(names)))],
            birth_date=day,
            sex="M" if male else "F",
            shared_residence=False,
            integrated_ksz=True,
            second_household_id=None,
        )
        persons = _append(persons, [child])
        in_registry = _row(registry, "person_id", mother["person_id"])
        household = in_registry["household_id"] if in_registry else mother["household_id"]
        city.event("birth", child["person_id"], day, rng, household_id=household)
    city.t["truth/persons.parquet"] = persons


def _deaths(city: _City, rng: np.random.Generator, start: date, touched: set[str]) -> None:
    persons = city.t["truth/persons.parquet"]
    ages = _ages(persons, start).astype(float)
    count = int(rng.binomial(persons.height, weekly(RATE_BY_KIND["death"].per_year)))
    if not count:
        return
    weight = np.exp(0.09 * (ages - 80.0))
    ids = persons["person_id"].to_list()
    chosen = rng.choice(len(ids), size=min(count, len(ids)), replace=False, p=weight / weight.sum())
    gone = [ids[int(i)] for i in chosen if ids[int(i)] not in touched]
    touched.update(gone)
    for person, day in zip(gone, _days(rng, start, len(gone)), strict=True):
        city.t["truth/social_statuses.parquet"] = _end_status(
            city.t["truth/social_statuses.parquet"], person, None, day
        )
        city.event("death", person, day, rng)
    city.t["truth/persons.parquet"] = persons.filter(~pl.col("person_id").is_in(gone))
    clients = city.t["local/ocmw_clients.parquet"]
    city.t["local/ocmw_clients.parquet"] = clients.filter(~pl.col("person_id").is_in(gone))


def _arrivals(city: _City, rng: np.random.Generator, start: date, touched: set[str]) -> None:
    persons = city.t["truth/persons.parquet"]
    target = int(rng.binomial(persons.height, weekly(RATE_BY_KIND["arrival"].per_year)))
    sample = persons.filter(pl.col("position_code") == "01")
    new_people: list[dict[str, Any]] = []
    new_homes: list[dict[str, Any]] = []
    while target > 0:
        size = int(rng.choice([1, 1, 1, 2, 2, 3, 4]))
        target -= size
        day = _days(rng, start, 1)[0]
        household = city.new_household_id()
        address = _city_address(city, rng)
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
        new_homes.append(_household_row(household, members[0]["person_id"], address))
        for person in members:
            touched.add(person["person_id"])
            city.event("arrival", person["person_id"], day, rng, household_id=household)
    city.t["truth/persons.parquet"] = _append(persons, new_people)
    city.t["truth/households.parquet"] = _append(city.t["truth/households.parquet"], new_homes)


def _departures(city: _City, rng: np.random.Generator, start: date, touched: set[str]) -> None:
    homes = _private_households(city)["household_id"].to_list()
    leaving = _pick(rng, homes, RATE_BY_KIND["departure"].per_year, set())
    if not leaving:
        return
    nis, postcode, street = ELSEWHERE.get(city.nis, ELSEWHERE[""])
    persons = city.t["truth/persons.parquet"]
    registry = city.t["registry/persons.parquet"]
    for household, day in zip(leaving, _days(rng, start, len(leaving)), strict=True):
        members = persons.filter(pl.col("household_id") == household)["person_id"].to_list()
        if not members or touched.intersection(members):
            continue
        touched.update(members)
        address = {"municipality_nis": nis, "postcode": postcode, "street": street}
        address["house_number"] = str(int(rng.integers(1, 300)))
        persons = _set_rows(persons, "person_id", members, **address)
        city.t["truth/households.parquet"] = _set_rows(
            city.t["truth/households.parquet"], "household_id", [household], **address
        )
        for person in members:
            row = _row(registry, "person_id", person)
            city.event(
                "departure",
                person,
                day,
                rng,
                household_id=row["household_id"] if row else household,
                detail=json.dumps(address, sort_keys=True),
            )
    city.t["truth/persons.parquet"] = persons


def _splits(city: _City, rng: np.random.Generator, start: date, touched: set[str]) -> None:
    persons = city.t["truth/persons.parquet"]
    adults = persons.filter(
        pl.Series(_ages(persons, start) >= 18)
        & (pl.col("position_code") != "01")
        & pl.col("household_id").is_in(_private_households(city)["household_id"].to_list())
    )
    candidates = adults.unique("household_id", keep="first", maintain_order=True)[
        "person_id"
    ].to_list()
    leavers = _pick(rng, candidates, RATE_BY_KIND["split"].per_year, touched)
    new_homes = []
    for person, day in zip(leavers, _days(rng, start, len(leavers)), strict=True):
        household = city.new_household_id()
        address = _city_address(city, rng)
        persons = _set_rows(
            persons, "person_id", [person], household_id=household, position_code="01", **address
        )
        new_homes.append(_household_row(household, person, address))
        city.event("split", person, day, rng, household_id=household)
    city.t["truth/persons.parquet"] = persons
    city.t["truth/households.parquet"] = _append(city.t["truth/households.parquet"], new_homes)


def _registrations(city: _City, rng: np.random.Generator, start: date, touched: set[str]) -> None:
    grey = city.t["truth/grey_zones.parquet"]
    hidden = grey.filter(pl.col("kind") == "unregistered_cohabitant")["person_id"].to_list()
    present = set(city.t["truth/persons.parquet"]["person_id"].to_list())
    registering = _pick(
        rng, [p for p in hidden if p in present], RATE_BY_KIND["registers"].per_year, touched
    )
    truth = city.t["truth/persons.parquet"]
    registry = city.t["registry/persons.parquet"]
    households = city.t["truth/households.parquet"]
    for person, day in zip(registering, _days(rng, start, len(registering)), strict=True):
        own = _row(truth, "person_id", person)
        assert own is not None
        home = _row(households, "household_id", own["household_id"])
        reference = _row(registry, "person_id", home["reference_person_id"]) if home else None
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


def _statuses(city: _City, rng: np.random.Generator, start: date, touched: set[str]) -> None:
    persons = city.t["truth/persons.parquet"]
    ids = persons["person_id"].to_list()
    ages = _ages(persons, start)
    adults = [p for p, a in zip(ids, ages, strict=True) if 18 <= a <= 64]
    statuses = city.t["truth/social_statuses.parquet"]
    vt = _open_status(statuses, "BIM_BVT", start)
    leefloon = _open_status(statuses, "LIVING_WAGES_PCSA_HELP", start)
    parking = _open_status(statuses, "GENT_PARKING_ADULT", start)
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
        chosen = _pick(rng, candidates, RATE_BY_KIND[kind].per_year, touched)
        for person, day in zip(chosen, _days(rng, start, len(chosen)), strict=True):
            if begins:
                statuses = _start_status(statuses, person, status, day)
            else:
                statuses = _end_status(statuses, person, status, day)
            if kind.startswith("leefloon"):
                _set_local(city, person, leefloon_or_equivalent=begins)
            city.event(kind, person, day, rng, status=status)
    city.t["truth/social_statuses.parquet"] = statuses
    clients = city.t["local/ocmw_clients.parquet"]
    guided = set(clients.filter(pl.col("budget_guidance"))["person_id"].to_list())
    for kind, candidates, begins in (
        ("guidance_started", [p for p in adults if p not in guided], True),
        ("guidance_stopped", sorted(guided & set(ids)), False),
    ):
        chosen = _pick(rng, candidates, RATE_BY_KIND[kind].per_year, touched)
        for person, day in zip(chosen, _days(rng, start, len(chosen)), strict=True):
            _set_local(city, person, budget_guidance=begins)
            city.event(kind, person, day, rng)


def _assessments(city: _City, rng: np.random.Generator, start: date, touched: set[str]) -> None:
    end = start + timedelta(days=7)
    tax = city.t["truth/tax_assessments.parquet"]
    totals = tax.filter(pl.col("item_code").str.ends_with("7555"))
    for year in (end.year - 2, end.year - 1):
        chance = wave_share(end, year)
        if chance <= 0:
            continue
        before = totals.filter(pl.col("income_year") == year - 1)
        done = set(totals.filter(pl.col("income_year") == year)["person_id"].to_list())
        waiting = before.filter(~pl.col("person_id").is_in(list(done))).unique(
            "person_id", keep="first", maintain_order=True
        )
        draws = rng.random(waiting.height)
        for row, draw in zip(waiting.iter_rows(named=True), draws, strict=True):
            if draw >= chance or row["person_id"] in touched:
                continue
            touched.add(row["person_id"])
            value = int(row["item_value"] * (1.0 + rng.normal(0.02, 0.03)))
            day = _days(rng, start, 1)[0]
            item = {
                "person_id": row["person_id"],
                "income_year": year,
                "tax_year": year + 1,
                "fiscal_status": "A",
                "item_code": "A7555",
                "item_value": max(value, 0),
                "article_number": str(int(rng.integers(100_000_000, 1_000_000_000))),
            }
            tax = _append(tax, [item])
            city.event(
                "tax_assessed",
                row["person_id"],
                day,
                rng,
                income_year=year,
                value=item["item_value"],
                detail=item["article_number"],
            )
    city.t["truth/tax_assessments.parquet"] = tax


_TRUTH_STEPS: Final[tuple[Callable[[_City, np.random.Generator, date, set[str]], None], ...]] = (
    _deaths,
    _births,
    _departures,
    _arrivals,
    _splits,
    _registrations,
    _statuses,
    _assessments,
)


# ----------------------------------------------------------------------------- registry changes

STATUS_STARTS: Final = frozenset(
    {"vt_granted", "leefloon_started", "parking_card", "status_started"}
)
STATUS_ENDS: Final = frozenset({"vt_ended", "leefloon_stopped"})
LOCAL_ONLY: Final = frozenset({"guidance_started", "guidance_stopped"})
# National-register information types (RR) and mutation types of GeefPersoonMutatiesNotificaties.
ADDRESS, BIRTH, HOUSEHOLD, DEATH = "001", "100", "140", "150"
ADDED, MODIFIED, ENDED = "1", "2", "3"
NEW_PERSON, MUTATION = "1", "2"


@dataclass
class _Publisher:
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


def _registry_address(
    city: _City, household: str | None, fallback: dict[str, Any]
) -> dict[str, Any]:
    for table in ("registry/households.parquet", "truth/households.parquet"):
        row = _row(city.t[table], "household_id", household) if household else None
        if row is not None:
            return {c: row[c] for c in _ADDRESS}
    return {c: fallback[c] for c in _ADDRESS}


def _copy_person(city: _City, person: str, household: str | None) -> dict[str, Any] | None:
    row = _row(city.t["truth/persons.parquet"], "person_id", person)
    if row is None:
        return None
    row.pop("second_household_id", None)
    row["household_id"] = household or row["household_id"]
    row.update(_registry_address(city, row["household_id"], row))
    return row


def _ensure_household(city: _City, household: str | None) -> None:
    registry = city.t["registry/households.parquet"]
    if household is None or _row(registry, "household_id", household) is not None:
        return
    row = _row(city.t["truth/households.parquet"], "household_id", household)
    if row is not None:
        city.t["registry/households.parquet"] = _append(registry, [row])


def _apply(city: _City, event: dict[str, Any], out: _Publisher) -> bool:
    """Apply one event to the registry view; False when the registry never learns it."""
    kind, person, day = event["kind"], event["person_id"], event["truth_date"]
    when = event["registry_date"]
    persons = city.t["registry/persons.parquet"]
    current = _row(persons, "person_id", person)
    if kind in ("birth", "arrival"):
        _ensure_household(city, event["household_id"])
        row = _copy_person(city, person, event["household_id"])
        if row is None or current is not None:
            return False
        city.t["registry/persons.parquet"] = _append(persons, [row])
        if kind == "birth":
            out.person(person, BIRTH, ADDED, when, NEW_PERSON)
        out.person(person, ADDRESS, ADDED if kind == "birth" else MODIFIED, when)
        out.person(person, HOUSEHOLD, MODIFIED, when)
        out.members(persons, event["household_id"], when, person)
        return True
    if current is None:
        return False
    if kind == "death":
        city.t["registry/persons.parquet"] = persons.filter(pl.col("person_id") != person)
        city.t["registry/social_statuses.parquet"] = _end_status(
            city.t["registry/social_statuses.parquet"], person, None, day
        )
        out.person(person, DEATH, ADDED, when)
        out.members(persons, current["household_id"], when, person)
        return True
    if kind == "departure":
        address = json.loads(event["detail"])
        city.t["registry/persons.parquet"] = _set_rows(persons, "person_id", [person], **address)
        city.t["registry/households.parquet"] = _set_rows(
            city.t["registry/households.parquet"],
            "household_id",
            [current["household_id"]],
            **address,
        )
        out.person(person, ADDRESS, MODIFIED, when)
        return True
    if kind in ("split", "registers"):
        _ensure_household(city, event["household_id"])
        address = _registry_address(city, event["household_id"], current)
        position = "01" if kind == "split" else (event["detail"] or "01")
        city.t["registry/persons.parquet"] = _set_rows(
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
    if kind in STATUS_STARTS or kind in STATUS_ENDS:
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
            statuses = _append(
                statuses,
                [{"person_id": person, "status": event["status"], "start": day, "end": end}],
            )
        else:
            statuses = _end_status(statuses, person, event["status"], day)
        city.t["registry/social_statuses.parquet"] = statuses
        out.general(person, "KSZ", event["status"], ADDED if kind in STATUS_STARTS else ENDED, when)
        return True
    if kind == "tax_assessed":
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
        city.t["registry/tax_assessments.parquet"] = _append(
            city.t["registry/tax_assessments.parquet"], [item]
        )
        out.general(person, "FODFIN", "AANSLAG", ADDED, when)
        return True
    return False


def _lagged_statuses(city: _City) -> None:
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


def _tidy_households(persons: pl.DataFrame, households: pl.DataFrame) -> pl.DataFrame:
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


def _registry_lag_zone(city: _City, pending: pl.DataFrame) -> None:
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


def _save(city: _City, published: dict[int, list[dict[str, Any]]]) -> None:
    (city.root / "history").mkdir(exist_ok=True)
    (city.root / "notifications").mkdir(exist_ok=True)
    (city.root / "meta.json").unlink(missing_ok=True)  # an interrupted write leaves no valid city
    for path, frame in city.t.items():
        write_parquet(frame, city.root / path)
    write_parquet(city.events, events_path(city.root))
    for week, rows in published.items():
        write_parquet(
            pl.DataFrame(rows, schema=NOTIFICATION_SCHEMA), notifications_path(city.root, week)
        )
    city.meta["rows"] = {**city.meta.get("rows", {}), **{p: f.height for p, f in city.t.items()}}
    # "persons" stays the generation's parameter (it identifies the city); the counts now are rows
    city.meta["households"] = city.t["truth/households.parquet"].height
    city.meta["registry_households"] = city.t["registry/households.parquet"].height
    text = json.dumps(city.meta, indent=2, sort_keys=True) + "\n"
    (city.root / "meta.json").write_text(text, encoding="utf-8")


def _one_week(city: _City) -> tuple[WeekReport, list[dict[str, Any]]]:
    week = int(city.meta.get("week", 0)) + 1
    seed = int(city.meta.get("seed", 0))
    rng = np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(1000 + week,)))
    start = city.reference
    end = start + timedelta(days=7)
    if week == 1 and not city.events.height:
        _lagged_statuses(city)
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
    publisher = _Publisher()
    for event in due.iter_rows(named=True):
        _apply(city, event, publisher)
    city.events = city.events.with_columns(
        (pl.col("applied") | pl.col("event").is_in(due["event"].to_list())).alias("applied")
    )
    _registry_lag_zone(city, city.events.filter(~pl.col("applied")))
    for view in ("registry", "truth"):
        city.t[f"{view}/households.parquet"] = _tidy_households(
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
    city = _load(root)
    reports = []
    published: dict[int, list[dict[str, Any]]] = {}
    for _ in range(weeks):
        report, rows = _one_week(city)
        published[report.week] = rows
        reports.append(report)
        if on_week is not None:
            on_week(report)
    try:
        _save(city, published)
    except OSError as exc:
        raise AdvanceError(f"cannot write the city to {root}: {exc}") from None
    return reports
