"""The synthetic city: a deterministic municipality as Parquet, in two views.

`write_city(persons, seed, out, place=…)` writes the data contract of docs/synthetic-city.md: the
registry view (what the federal registries show; the simulator serves it), the city's local
datasets and the ground truth (who is really in which situation), which differs from the registry
view exactly in the grey zones listed in `truth/grey_zones.parquet`. The place (`synth_place`) is
Ghent unless another municipality is asked for.

Everything is vectorised (numpy with one seeded stream per stage, polars for strings and files),
and deterministic: the same persons and seed give byte-identical files (fixed row order, no
timestamps, fixed Parquet settings).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import numpy as np
import polars as pl

from entitle.registry.synth_grey import Grey, build_grey
from entitle.registry.synth_money import (
    LIVING_WAGES,
    NO_END,
    STATUSES,
    Economy,
    build_economy,
    income_years,
    leefloon_category,
)
from entitle.registry.synth_names import NATIONALITIES
from entitle.registry.synth_people import (
    EPOCH,
    PARTNER,
    POSITION_CODES,
    REFERENCE_DATE,
    REGISTERS,
    Array,
    Households,
    Persons,
    build_households,
    build_persons,
    first_name_list,
    last_name_list,
    rng_for,
)
from entitle.registry.synth_place import GHENT, Place, place_for
from entitle.registry.synth_school import (
    CLASSES,
    LEVELS,
    Enrolments,
    LocalEnrolments,
    Schools,
    build_enrolments,
    build_schools,
    school_years,
)

__all__ = [
    "FILES",
    "GENERATOR_VERSION",
    "GREY_KINDS",
    "REFERENCE_DATE",
    "TOTAL_STEPS",
    "SynthError",
    "check_arguments",
    "city_tables",
    "generate_city",
    "prepare_out",
    "read_meta",
    "write_city",
]

# 2: no random "not integrated" draw for established residents; 3: no status dated after the
# reference day (a baby's recognition, an expired card, a past increased allowance)
GENERATOR_VERSION: Final = 3
MAX_PERSONS: Final = 20_000_000  # household ids have 8 digits
GREY_KINDS: Final = (
    "separated_parents",
    "unregistered_cohabitant",
    "reference_address",
    "registry_lag",
    "not_integrated",
    "no_assessment",
)
FILES: Final = (
    "registry/persons.parquet",
    "truth/persons.parquet",
    "registry/households.parquet",
    "truth/households.parquet",
    "registry/tax_assessments.parquet",
    "truth/tax_assessments.parquet",
    "registry/social_statuses.parquet",
    "truth/social_statuses.parquet",
    "registry/disability.parquet",
    "registry/leefloon_payments.parquet",
    "registry/enrolments.parquet",
    "local/ocmw_clients.parquet",
    "local/school_enrolments.parquet",
    "truth/grey_zones.parquet",
)
_CORE_STEPS: Final = (
    "households",
    "persons and names",
    "grey zones",
    "incomes and statuses",
    "schools",
)
TOTAL_STEPS: Final = len(_CORE_STEPS) + len(FILES) + 1  # + meta.json

# Leefloon amounts per category (cents per month) from a date, BELGIUM.md.
LEEFLOON_AMOUNTS: Final = (
    (date(2024, 5, 1), (85_897, 128_846, 174_129)),
    (date(2025, 2, 1), (87_613, 131_420, 177_607)),
)
PAYMENT_MONTHS: Final = 12  # leefloon payments of the last 12 months and the current one

Step = Callable[[str], None]


class SynthError(ValueError):
    """The city cannot be generated or written as asked; the message says why."""


# ----------------------------------------------------------------------------- helpers


def _days_to_date(days: Array, null_when: int | None = None) -> pl.Series:
    """Days since 1970-01-01 as a polars Date series (null where days == null_when)."""
    series = pl.Series(days.astype(np.int32)).cast(pl.Date)
    if null_when is not None:
        nulls = np.flatnonzero(days == null_when)
        if nulls.shape[0]:
            series = series.scatter(nulls, None)
    return series


def _padded(prefix: str, numbers: Array, width: int) -> pl.Series:
    """`prefix` + zero-padded numbers, as strings."""
    digits = pl.Series(numbers.astype(np.int64)).cast(pl.String).str.zfill(width)
    if not prefix:
        return digits
    return pl.select(pl.lit(prefix) + pl.lit(digits)).to_series()


def _lookup(values: list[str] | tuple[str, ...], index: Array) -> pl.Series:
    """Strings by index into a small list (the list's buffer is shared, not copied)."""
    return pl.Series(list(values), dtype=pl.String).gather(index.astype(np.int64))


def _with_nulls(series: pl.Series, mask: Array) -> pl.Series:
    nulls = np.flatnonzero(mask)
    return series.scatter(nulls, None) if nulls.shape[0] else series


# ----------------------------------------------------------------------------- the core


@dataclass
class _Core:
    """Everything drawn for the city, as arrays; tables are built from it."""

    persons: int
    seed: int
    place: Place
    reference: date  # the city's "today": ages, statuses, school year and income years
    hh: Households
    p: Persons
    grey: Grey
    economy: Economy
    schools: Schools
    enrolments: Enrolments
    local: LocalEnrolments
    streets: list[str]
    starts: Array  # first person (reference person) of each truth household
    registry_hh: Array  # each person's registry household index
    not_integrated: Array
    lag_person: Array  # persons with a status not yet visible (integrated ones)
    insz: pl.Series  # INSZ strings, by person index

    @property
    def registry_households(self) -> int:
        return self.hh.count + int(self.grey.unregistered.sum())


def _build_core(persons: int, seed: int, place: Place, reference: date, step: Step) -> _Core:
    step(_CORE_STEPS[0])
    hh = build_households(persons, seed, place)
    step(_CORE_STEPS[1])
    p = build_persons(hh, seed, reference)
    streets = place.street_list()
    step(_CORE_STEPS[2])
    grey = build_grey(hh, p, len(streets), seed, place)
    step(_CORE_STEPS[3])
    economy = build_economy(hh, p, grey, seed, reference)
    step(_CORE_STEPS[4])
    schools = build_schools(persons)
    enrolments, local = build_enrolments(hh, p, schools, seed, reference)

    starts = np.concatenate([[0], np.cumsum(hh.size)[:-1]]).astype(np.int64)
    unregistered = np.flatnonzero(grey.unregistered)
    registry_hh = p.hh.copy()
    registry_hh[unregistered] = hh.count + np.arange(unregistered.shape[0])
    periods = economy.periods
    visible_lag = periods.lag & ~grey.not_integrated[periods.person]
    lag_person = np.zeros(p.count, dtype=bool)
    lag_person[periods.person[visible_lag]] = True
    return _Core(
        persons=persons,
        seed=seed,
        place=place,
        reference=reference,
        hh=hh,
        p=p,
        grey=grey,
        economy=economy,
        schools=schools,
        enrolments=enrolments,
        local=local,
        streets=streets,
        starts=starts,
        registry_hh=registry_hh,
        not_integrated=grey.not_integrated,
        lag_person=lag_person,
        insz=_padded("", p.insz, 11),
    )


# ----------------------------------------------------------------------------- addresses


def _house_numbers(number: Array, box: Array) -> pl.Series:
    """ "12", "12A" or "12 bus 3"."""
    frame = pl.DataFrame({"n": number.astype(np.int64), "box": box.astype(np.int64)})
    return frame.select(
        pl.col("n").cast(pl.String)
        + pl.when(pl.col("box") == -1)
        .then(pl.lit("A"))
        .when(pl.col("box") > 0)
        .then(pl.lit(" bus ") + pl.col("box").cast(pl.String))
        .otherwise(pl.lit(""))
    ).to_series()


def _household_addresses(core: _Core, view: str) -> pl.DataFrame:
    """Address columns of every household of a view (registry: with the cohabitants' homes)."""
    hh, grey, place = core.hh, core.grey, core.place
    postcodes = place.postcode_list
    nis = np.zeros(hh.count, dtype=np.int64)
    postcode = hh.postcode.copy()
    street = hh.street.copy()
    number = hh.house_number.copy()
    box = hh.box.copy()
    if view == "registry":
        ocmw = hh.reference_address
        ocmw_postcode, ocmw_street, ocmw_number = place.ocmw_address
        postcode[ocmw] = postcodes.index(ocmw_postcode)
        street[ocmw] = core.streets.index(ocmw_street)
        number[ocmw] = int(ocmw_number)
        box[ocmw] = 0
        moved = np.flatnonzero(grey.unregistered)
        here = grey.unregistered_here[moved]
        other = grey.unregistered_postcode[moved]
        nis = np.concatenate([nis, np.where(here, 0, 1 + other)])
        postcode = np.concatenate([postcode, np.where(here, other, len(place.postcodes) + other)])
        street = np.concatenate([street, grey.unregistered_street[moved]])
        number = np.concatenate([number, grey.unregistered_number[moved]])
        box = np.concatenate([box, np.zeros(moved.shape[0], dtype=np.int64)])
    frame = pl.DataFrame(
        [
            _lookup(place.nis_list, nis).alias("municipality_nis"),
            _lookup(postcodes, postcode).alias("postcode"),
            _lookup(core.streets, street).alias("street"),
            _house_numbers(number, box).alias("house_number"),
        ]
    )
    if view == "truth":  # no fixed abode: the reference address is not where they live
        homeless = hh.reference_address
        frame = frame.with_columns(
            _with_nulls(frame["postcode"], homeless),
            _with_nulls(frame["street"], homeless),
            _with_nulls(frame["house_number"], homeless),
        )
    return frame


# ----------------------------------------------------------------------------- tables


def _persons_table(core: _Core, view: str) -> pl.DataFrame:
    p, hh, grey = core.p, core.hh, core.grey
    truth = view == "truth"
    household = p.hh if truth else core.registry_hh
    position = p.pos.copy()
    if not truth:
        position[grey.unregistered] = POSITION_CODES.index("01")
    addresses = _household_addresses(core, view).gather(household)
    refaddr = np.concatenate(
        [hh.reference_address, np.zeros(core.registry_households - hh.count, dtype=bool)]
    )
    shared = grey.separated if truth else grey.shared_note
    integrated = np.ones(p.count, dtype=bool) if truth else ~core.not_integrated
    columns = [
        core.insz.alias("person_id"),
        _padded("H", household + 1, 8).alias("household_id"),
        _lookup(POSITION_CODES, position).alias("position_code"),
        _lookup(first_name_list(), p.first_name).alias("first_name"),
        _lookup(last_name_list(), p.last_name).alias("last_name"),
        _days_to_date(p.birth).alias("birth_date"),
        _lookup(("F", "M"), p.male.astype(np.int64)).alias("sex"),
        _lookup([code for code, _, _, _ in NATIONALITIES], p.nationality).alias("nationality"),
        _lookup(REGISTERS, p.register).alias("register"),
        *addresses.get_columns(),
        pl.Series("reference_address", refaddr[household]),
        pl.Series("shared_residence", shared),
        pl.Series("integrated_ksz", integrated),
    ]
    if truth:
        second = _padded("H", grey.second_household + 1, 8)
        columns.append(_with_nulls(second, grey.second_household < 0).alias("second_household_id"))
    return pl.DataFrame(columns)


def _households_table(core: _Core, view: str) -> pl.DataFrame:
    hh, grey = core.hh, core.grey
    truth = view == "truth"
    total = hh.count if truth else core.registry_households
    household = core.p.hh if truth else core.registry_hh
    reference = np.concatenate([core.starts, np.flatnonzero(grey.unregistered)])[:total]
    collective = np.concatenate([hh.collective, np.zeros(total - hh.count, dtype=bool)])
    refaddr = np.concatenate([hh.reference_address, np.zeros(total - hh.count, dtype=bool)])
    reference_id = _with_nulls(core.insz.gather(reference), collective)
    return pl.DataFrame(
        [
            _padded("H", np.arange(1, total + 1), 8).alias("household_id"),
            reference_id.alias("reference_person_id"),
            *_household_addresses(core, view).get_columns(),
            pl.Series("size", np.bincount(household, minlength=total).astype(np.int32)),
            pl.Series("collective", collective),
            pl.Series("reference_address", refaddr),
        ]
    )


def _tax_table(core: _Core, view: str) -> pl.DataFrame:
    """Tax assessment items: one row per item; joint assessments for spouses (A and B).

    Rows come out in (person, income year, item) order without sorting: each person has four
    possible item slots (7270 and 7555 for each income year), and the present slots of the
    person-major (N, 4) mask are the rows.
    """
    p, economy = core.p, core.economy
    income_year = income_years(core.reference)
    rng = rng_for(core.seed, 7)
    visible = ~economy.no_assessment
    partner_like = (p.pos == POSITION_CODES.index("02")) | (p.pos == POSITION_CODES.index("22"))
    ref_of = core.starts[p.hh]
    joint = np.zeros((p.count, 2), dtype=bool)
    article = np.zeros((p.count, 2), dtype=np.int32)
    for y in range(len(income_year)):
        in_registry = economy.assessed[y] & visible
        joint[:, y] = partner_like & (p.role == PARTNER) & in_registry & in_registry[ref_of]
        drawn = rng.integers(100_000_000, 1_000_000_000, size=p.count, dtype=np.int32)
        article[:, y] = np.where(joint[:, y], drawn[ref_of], drawn)
    slots = np.empty((p.count, 4), dtype=bool)
    for y in range(len(income_year)):
        slots[:, 2 * y] = economy.assessed[y] & (economy.professional[y] > 0)
        slots[:, 2 * y + 1] = economy.assessed[y]
    if view == "registry":
        slots &= visible[:, None]
    rows = np.flatnonzero(slots.ravel())
    del slots
    person = rows // 4
    year = (rows % 4) // 2
    item = rows % 2
    del rows
    status = joint[person, year].astype(np.int8)
    value = np.where(item == 0, economy.professional[year, person], economy.income[year, person])
    years = np.array(income_year, dtype=np.int32)[year]
    return pl.DataFrame(
        [
            core.insz.gather(person).alias("person_id"),
            pl.Series("income_year", years),
            pl.Series("tax_year", years + 1),
            _lookup(("A", "B"), status).alias("fiscal_status"),
            _lookup(("A7270", "A7555", "B7270", "B7555"), status * 2 + item).alias("item_code"),
            pl.Series("item_value", value.astype(np.int64)),
            pl.Series(article[person, year]).cast(pl.String).alias("article_number"),
        ]
    )


def _registry_periods(core: _Core) -> Array:
    periods = core.economy.periods
    return ~periods.lag & ~core.not_integrated[periods.person]


def _statuses_table(core: _Core, view: str) -> pl.DataFrame:
    periods = core.economy.periods
    keep = np.ones(periods.person.shape[0], bool) if view == "truth" else _registry_periods(core)
    return pl.DataFrame(
        [
            core.insz.gather(periods.person[keep]).alias("person_id"),
            _lookup(STATUSES, periods.status[keep]).alias("status"),
            _days_to_date(periods.start[keep]).alias("start"),
            _days_to_date(periods.end[keep], null_when=NO_END).alias("end"),
        ]
    )


def _disability_table(core: _Core) -> pl.DataFrame:
    economy = core.economy
    keep = ~core.not_integrated[economy.disability_person]
    return pl.DataFrame(
        [
            core.insz.gather(economy.disability_person[keep]).alias("person_id"),
            pl.Series("recognised", economy.disability_recognised[keep]),
            _days_to_date(economy.disability_since[keep]).alias("since"),
            pl.Series("points", economy.disability_points[keep].astype(np.int32)),
        ]
    )


def _month_index(days: Array) -> Array:
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _leefloon_payments_table(core: _Core) -> pl.DataFrame:
    """Monthly leefloon payments (registry view) over the last year, by actual situation."""
    periods = core.economy.periods
    keep = _registry_periods(core) & (periods.status == LIVING_WAGES)
    person = periods.person[keep]
    ref_month = int(_month_index(np.array([(core.reference - EPOCH).days]))[0])
    first = np.maximum(_month_index(periods.start[keep]), ref_month - PAYMENT_MONTHS)
    end = periods.end[keep]
    last = np.where(end == NO_END, ref_month, np.minimum(_month_index(end), ref_month))
    months = np.maximum(last - first + 1, 0)
    row_person = np.repeat(person, months)
    offsets = np.arange(int(months.sum())) - np.repeat(np.cumsum(months) - months, months)
    month = np.repeat(first, months) + offsets
    category = leefloon_category(core.hh, core.p)[row_person]
    rng = rng_for(core.seed, 8)
    partial = rng.random(core.p.count) < 0.2
    factor = np.where(partial, 0.3 + 0.6 * rng.random(core.p.count), 1.0)[row_person]
    month_days = month.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    amount = np.zeros(month.shape[0], dtype=np.int64)
    for since, amounts in LEEFLOON_AMOUNTS:
        in_force = month_days >= (since - date(1970, 1, 1)).days
        amount = np.where(in_force, np.array(amounts, dtype=np.int64)[category - 1], amount)
    amount = np.round(amount * factor).astype(np.int64)
    return pl.DataFrame(
        [
            core.insz.gather(row_person).alias("person_id"),
            _days_to_date(month_days).alias("month"),
            pl.Series("category", category.astype(np.int32)),
            pl.Series("amount", amount),
        ]
    )


def _enrolments_table(core: _Core) -> pl.DataFrame:
    e, schools = core.enrolments, core.schools
    return pl.DataFrame(
        [
            core.insz.gather(e.person).alias("person_id"),
            _lookup(schools.ids, e.school).alias("school_id"),
            _lookup(schools.names, e.school).alias("school_name"),
            _lookup(LEVELS, e.level).alias("level"),
            _days_to_date(e.start).alias("start"),
            _days_to_date(e.end, null_when=-1).alias("end"),
        ]
    )


def _ocmw_table(core: _Core) -> pl.DataFrame:
    economy = core.economy
    who = np.flatnonzero(economy.ocmw_client)
    return pl.DataFrame(
        [
            core.insz.gather(who).alias("person_id"),
            pl.Series("leefloon_or_equivalent", economy.leefloon_now[who]),
            pl.Series("debt_help", economy.debt_help[who]),
            pl.Series("budget_guidance", economy.budget_guidance[who]),
        ]
    )


def _school_records_table(core: _Core) -> pl.DataFrame:
    local, schools = core.local, core.schools
    return pl.DataFrame(
        [
            core.insz.gather(local.person).alias("person_id"),
            _lookup(schools.ids, local.school).alias("school_id"),
            _lookup(schools.names, local.school).alias("school_name"),
            _lookup(CLASSES, local.klass).alias("class"),
            pl.Series("care", local.care),
            _lookup(school_years(core.reference), local.year).alias("school_year"),
            # the school records a shared residence (the register's note) at enrolment
            pl.Series("shared_residence", core.grey.shared_note[local.person]),
        ]
    )


def grey_zone_masks(core: _Core) -> dict[str, Array]:
    """Per grey-zone kind, which persons are in it."""
    return {
        "separated_parents": core.grey.separated,
        "unregistered_cohabitant": core.grey.unregistered,
        "reference_address": core.hh.reference_address[core.p.hh],
        "registry_lag": core.lag_person,
        "not_integrated": core.not_integrated,
        "no_assessment": core.economy.no_assessment,
    }


def _grey_zones_table(core: _Core) -> pl.DataFrame:
    masks = grey_zone_masks(core)
    who = [np.flatnonzero(masks[kind]) for kind in GREY_KINDS]
    person = np.concatenate(who)
    kind = np.concatenate([np.full(w.shape[0], i, dtype=np.int64) for i, w in enumerate(who)])
    return pl.DataFrame(
        [
            core.insz.gather(person).alias("person_id"),
            _padded("H", core.p.hh[person] + 1, 8).alias("household_id"),
            _lookup(GREY_KINDS, kind).alias("kind"),
        ]
    )


_TABLES: Final[dict[str, Callable[[_Core], pl.DataFrame]]] = {
    "registry/persons.parquet": lambda c: _persons_table(c, "registry"),
    "truth/persons.parquet": lambda c: _persons_table(c, "truth"),
    "registry/households.parquet": lambda c: _households_table(c, "registry"),
    "truth/households.parquet": lambda c: _households_table(c, "truth"),
    "registry/tax_assessments.parquet": lambda c: _tax_table(c, "registry"),
    "truth/tax_assessments.parquet": lambda c: _tax_table(c, "truth"),
    "registry/social_statuses.parquet": lambda c: _statuses_table(c, "registry"),
    "truth/social_statuses.parquet": lambda c: _statuses_table(c, "truth"),
    "registry/disability.parquet": _disability_table,
    "registry/leefloon_payments.parquet": _leefloon_payments_table,
    "registry/enrolments.parquet": _enrolments_table,
    "local/ocmw_clients.parquet": _ocmw_table,
    "local/school_enrolments.parquet": _school_records_table,
    "truth/grey_zones.parquet": _grey_zones_table,
}


def check_arguments(persons: int, seed: int) -> None:
    if persons < 1:
        raise SynthError(f"--persons must be at least 1, got {persons}")
    if persons > MAX_PERSONS:
        raise SynthError(f"--persons must be at most {MAX_PERSONS:,}, got {persons:,}")
    if seed < 0:
        raise SynthError(f"--seed must be 0 or more, got {seed}")


def _no_step(_: str) -> None:
    return None


def city_tables(
    persons: int,
    seed: int,
    on_step: Step | None = None,
    place: Place = GHENT,
    reference: date = REFERENCE_DATE,
) -> Iterator[tuple[str, pl.DataFrame]]:
    """Generate the city in `place` as it stands on the `reference` date and yield (relative
    path, table) for every file, one at a time."""
    check_arguments(persons, seed)
    step = on_step or _no_step
    core = _build_core(persons, seed, place, reference, step)
    for path in FILES:
        step(path)
        yield path, _TABLES[path](core)


def generate_city(
    persons: int, seed: int, place: Place = GHENT, reference: date = REFERENCE_DATE
) -> dict[str, pl.DataFrame]:
    """The whole city in memory, by relative file path (for tests and small cities)."""
    return dict(city_tables(persons, seed, place=place, reference=reference))


def _meta(
    persons: int, seed: int, place: Place, reference: date, rows: dict[str, int]
) -> dict[str, Any]:
    return {
        "generator": "entitle.registry.synth",
        "version": GENERATOR_VERSION,
        "seed": seed,
        "persons": persons,
        "households": rows["truth/households.parquet"],
        "registry_households": rows["registry/households.parquet"],
        "municipality_nis": place.nis,
        "reference_date": reference.isoformat(),
        "school_year": school_years(reference)[-1],
        "income_years": list(income_years(reference)),
        "grey_zone_kinds": list(GREY_KINDS),
        "rows": rows,
    }


def write_parquet(frame: pl.DataFrame, path: Path) -> None:
    """Write a table with the fixed settings that make files byte-for-byte reproducible."""
    frame.rechunk().write_parquet(
        path,
        compression="zstd",
        compression_level=3,
        statistics=True,
        row_group_size=262_144,
    )


def prepare_out(out: Path) -> None:
    """Create the output folder, refusing one that holds anything but a synthetic city."""
    if out.exists() and not out.is_dir():
        raise SynthError(f"--out {out} exists and is not a directory")
    if out.is_dir():
        ours = {"meta.json", *FILES, *(path.split("/")[0] for path in FILES)}
        foreign = [
            path.relative_to(out).as_posix()
            for path in sorted(out.rglob("*"))
            if path.relative_to(out).as_posix() not in ours
        ]
        if foreign:
            raise SynthError(
                f"--out {out} is not empty and holds other things than a synthetic city "
                f"(e.g. {foreign[0]}); choose a new or empty directory"
            )
    try:
        for sub in ("registry", "truth", "local"):
            (out / sub).mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise SynthError(f"--out {out} is not writable: {exc.strerror or exc}") from None


def write_city(
    persons: int,
    seed: int,
    out: Path | str,
    on_step: Step | None = None,
    place: Place | str = GHENT,
    reference: date = REFERENCE_DATE,
) -> dict[str, Any]:
    """Generate the city in `place` (a `Place` or a municipality id such as "vlasbeke"; Ghent by
    default) as it stands on the `reference` date (1 March 2026 by default) and write it under
    `out`; return the contents of meta.json."""
    if isinstance(place, str):
        try:
            place = place_for(place)
        except ValueError as exc:
            raise SynthError(str(exc)) from None
    check_arguments(persons, seed)
    out = Path(out)
    prepare_out(out)
    step = on_step or _no_step
    (out / "meta.json").unlink(missing_ok=True)  # an interrupted run leaves no valid city
    rows: dict[str, int] = {}
    try:
        for path, frame in city_tables(persons, seed, step, place, reference):
            write_parquet(frame, out / path)
            rows[path] = frame.height
            del frame
        step("meta.json")
        meta = _meta(persons, seed, place, reference, rows)
        text = json.dumps(meta, indent=2, sort_keys=True) + "\n"
        (out / "meta.json").write_text(text, encoding="utf-8")
    except OSError as exc:
        raise SynthError(f"cannot write the city to {out}: {exc}") from None
    return meta


def read_meta(directory: Path | str) -> dict[str, Any]:
    """meta.json of a generated city; SynthError if the folder holds none."""
    path = Path(directory) / "meta.json"
    try:
        meta: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SynthError(f"{directory} holds no synthetic city (no meta.json)") from None
    except (OSError, ValueError) as exc:
        raise SynthError(f"cannot read {path}: {exc}") from None
    return meta
