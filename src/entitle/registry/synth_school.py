"""Schools of the synthetic city: registry enrolments and the city's own school records.

Every child of school age is enrolled somewhere (`Onderwijs.GeefHistoriekInschrijving`: primary
school from the first kindergarten year, secondary from 12, with the primary school as history).
Siblings share a primary school. Some primary schools are the city's own (Stedelijk Onderwijs Gent,
more often chosen by poorer households); their pupils, and pupils of other schools in the city's
after-school care, appear in the local dataset `school_enrolments` for this and last school year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np

from entitle.registry.synth_names import school_names
from entitle.registry.synth_people import (
    REFERENCE_DATE,
    RESIDENT,
    Array,
    Households,
    Persons,
    date_parts,
    rng_for,
)
from entitle.rules.periods import SchoolYear


def school_years(reference: date) -> tuple[str, str]:
    """The school years the city's records hold on `reference`: the one before and the one
    running on that date (the one rule, `rules.periods`), e.g. 2024-2025 and 2025-2026."""
    current = SchoolYear.of(reference)
    return current.shifted(-1).label, current.label


SCHOOL_YEARS: Final = school_years(REFERENCE_DATE)  # on the default reference date
CLASSES: Final = ("K1", "K2", "K3", "L1", "L2", "L3", "L4", "L5", "L6")
LEVELS: Final = ("nursery", "primary", "secondary")  # kleuter, lager, secundair
# School kinds, their number in a Ghent-sized city, and the first school number of the kind.
SCHOOL_KINDS: Final = (
    ("city", 40, 100_001, 0),
    ("go", 20, 200_001, 0),
    ("free", 75, 300_001, 0),
    ("city2", 12, 400_001, 1),
    ("go2", 10, 500_001, 1),
    ("free2", 25, 600_001, 1),
)
GHENT_PERSONS: Final = 270_000
CARE_SHARE_CITY: Final = 0.45  # city pupils also in after-school care
CARE_ONLY_SHARE: Final = 0.06  # pupils of other schools in the city's after-school care


@dataclass
class Schools:
    """The school list: id, name, whether it is a city school, level (0 primary, 1 secondary)."""

    ids: list[str]
    names: list[str]
    city: Array
    level: Array
    first: dict[str, int]  # first index of each kind
    count: dict[str, int]  # schools of each kind


@dataclass
class Enrolments:
    """Registry enrolments: one entry per enrolment period."""

    person: Array
    school: Array
    start: Array  # days since epoch
    end: Array  # days since epoch, -1 when open
    level: Array  # index into LEVELS


@dataclass
class LocalEnrolments:
    """The city's school and after-school records, per school year."""

    person: Array
    school: Array
    klass: Array  # index into CLASSES
    care: Array
    year: Array  # index into `school_years(reference)`


def build_schools(persons: int) -> Schools:
    """Schools in proportion to the city's size (at least one of each kind)."""
    scale = persons / GHENT_PERSONS
    ids: list[str] = []
    names: list[str] = []
    city: list[bool] = []
    level: list[int] = []
    first: dict[str, int] = {}
    count: dict[str, int] = {}
    for kind, ghent_count, first_number, kind_level in SCHOOL_KINDS:
        n = max(1, round(ghent_count * scale))
        first[kind] = len(ids)
        count[kind] = n
        ids.extend(f"{first_number + i:06d}" for i in range(n))
        names.extend(school_names(kind, n))
        city.extend([kind.startswith("city")] * n)
        level.extend([kind_level] * n)
    return Schools(
        ids=ids,
        names=names,
        city=np.array(city, dtype=bool),
        level=np.array(level, dtype=np.int64),
        first=first,
        count=count,
    )


def _first_of_month(year: Array, month: int) -> Array:
    """Days since 1970-01-01 of the first day of `month` in each year."""
    months = (year.astype(np.int64) - 1970) * 12 + (month - 1)
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _september(year: Array) -> Array:
    return _first_of_month(year, 9)


def _june_30(year: Array) -> Array:
    return _first_of_month(year, 7) - 1


def build_enrolments(
    hh: Households, p: Persons, schools: Schools, seed: int, reference: date = REFERENCE_DATE
) -> tuple[Enrolments, LocalEnrolments]:
    """Registry enrolments (current and history) and the city's local school records, for the
    school year running on the `reference` date and the one before."""
    rng = rng_for(seed, 5)
    first_year = SchoolYear.of(reference).first  # the calendar year the school year starts
    count = p.count
    birth_year, _, _ = date_parts(p.birth)
    grade = (first_year - birth_year).astype(np.int16)  # 3 = K1, 6 = L1, 12 = S1
    del birth_year
    held_back = (grade >= 7) & (rng.random(count) < 0.10)
    grade = np.where(held_back, grade - 1, grade)
    del held_back
    pupil = (p.role != RESIDENT) & (
        ((grade >= 3) & (grade <= 17)) | ((grade == 18) & (rng.random(count) < 0.3))
    )
    # From here on, only pupils.
    who = np.flatnonzero(pupil)
    del pupil
    grade = grade[who].astype(np.int64)
    n = who.shape[0]
    primary = grade <= 11

    # Primary school per household (siblings together); poorer households choose city schools
    # more often.
    hh_u = rng.random((2, hh.count))
    p_city = np.clip(0.24 + 0.13 * hh.deprivation, 0.08, 0.65)
    sector = np.where(hh_u[0] < p_city, 0, np.where(hh_u[0] < p_city + 0.13, 1, 2))
    kinds = ("city", "go", "free")
    first = np.array([schools.first[k] for k in kinds])
    sizes = np.array([schools.count[k] for k in kinds])
    hh_primary = first[sector] + np.floor(hh_u[1] * sizes[sector]).astype(np.int64)
    del hh_u, p_city, sector
    primary_school = hh_primary[p.hh[who]]
    del hh_primary

    kinds2 = ("city2", "go2", "free2")
    first2 = np.array([schools.first[k] for k in kinds2])
    sizes2 = np.array([schools.count[k] for k in kinds2])
    u = rng.random(n)
    sector2 = np.where(u < 0.2, 0, np.where(u < 0.4, 1, 2))
    secondary_school = first2[sector2] + np.floor(rng.random(n) * sizes2[sector2]).astype(np.int64)

    entry_primary = first_year - (grade - 3)
    moved = primary & (rng.random(n) < 0.15)
    moved_year = entry_primary + np.floor(rng.random(n) * (first_year - entry_primary + 1))
    current_primary_year = np.where(moved, moved_year, entry_primary).astype(np.int64)
    entry_secondary = first_year - (grade - 12)

    cur_p = np.flatnonzero(primary)
    cur_s = np.flatnonzero(~primary)
    local_index = np.concatenate([cur_p, cur_s, cur_s])
    school = np.concatenate([primary_school[cur_p], secondary_school[cur_s], primary_school[cur_s]])
    start = np.concatenate(
        [
            _september(current_primary_year[cur_p]),
            _september(entry_secondary[cur_s]),
            _september(entry_primary[cur_s]),
        ]
    )
    end = np.concatenate(
        [
            np.full(cur_p.shape[0] + cur_s.shape[0], -1, dtype=np.int64),
            _june_30(entry_secondary[cur_s]),
        ]
    )
    # The level of the current group (kindergarten K1-K3 or primary L1-L6) or the history row.
    level = np.concatenate(
        [
            np.where(grade[cur_p] <= 5, 0, 1),
            np.full(cur_s.shape[0], 2, dtype=np.int64),
            np.full(cur_s.shape[0], 1, dtype=np.int64),
        ]
    )
    order = np.lexsort((start, local_index))
    enrolments = Enrolments(
        person=who[local_index[order]],
        school=school[order],
        start=start[order],
        end=end[order],
        level=level[order],
    )

    # Local records: city primary pupils (with or without care) and care-only pupils, this year;
    # last year for those who were already in the same school.
    rng_local = rng_for(seed, 6)
    in_city = primary & schools.city[primary_school]
    care = np.where(
        in_city, rng_local.random(n) < CARE_SHARE_CITY, rng_local.random(n) < CARE_ONLY_SHARE
    )
    this_year = in_city | (primary & care)
    was_there = this_year & (grade - 1 >= 3) & (current_primary_year <= first_year - 1)
    last_year_care = np.where(in_city, rng_local.random(n) < CARE_SHARE_CITY, care)
    last_year = was_there & (in_city | last_year_care)
    now_index = np.flatnonzero(this_year)
    before_index = np.flatnonzero(last_year)
    l_index = np.concatenate([before_index, now_index])
    l_year = np.concatenate(
        [np.zeros(before_index.shape[0], dtype=np.int64), np.ones(now_index.shape[0], np.int64)]
    )
    l_class = np.concatenate([grade[before_index] - 4, grade[now_index] - 3]).astype(np.int64)
    l_care = np.concatenate([last_year_care[before_index], care[now_index]])
    order = np.lexsort((l_year, l_index))
    local = LocalEnrolments(
        person=who[l_index[order]],
        school=primary_school[l_index[order]],
        klass=l_class[order],
        care=l_care[order],
        year=l_year[order],
    )
    return enrolments, local
