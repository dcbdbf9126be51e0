"""Households and persons of the synthetic city, as numpy arrays (vectorised, seeded).

Everything here is the *ground truth*: who lives with whom. The registry view is derived later
(`synth.py`), by applying the grey zones. Persons are ordered by household and, within a
household, by member rank (0 is the reference person), and that order is kept in every file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from entitle.registry.synth_names import (
    FIRST_NAME_POOLS,
    LAST_NAME_POOLS,
    NATIONALITIES,
    REGIONS,
)
from entitle.registry.synth_place import GHENT, Place

Array = npt.NDArray[Any]

REFERENCE_DATE: Final = date(2026, 3, 1)
EPOCH: Final = date(1970, 1, 1)
DAYS_PER_YEAR: Final = 365.2425

# Household types (private households 0-6, then collective).
SINGLE, COUPLE, FAMILY, SINGLE_PARENT, MULTIGEN, SHARED, RELATIVES, COLLECTIVE = range(8)
HOUSEHOLD_TYPES: Final = (
    "single",
    "couple",
    "family",
    "single_parent",
    "multi_generation",
    "co_residents",
    "relatives",
    "collective",
)
# Shares of private household types, calibrated so that sizes land near Ghent's (41% one person,
# mean 2.16 in 2020) and the city has ~120,000 households for ~270,000 persons.
TYPE_P: Final = np.array([0.385, 0.245, 0.222, 0.085, 0.02, 0.033, 0.01])
FAMILY_CHILDREN_P: Final = np.array([0.37, 0.40, 0.155, 0.05, 0.018, 0.007])  # 1..6 children
SINGLE_PARENT_CHILDREN_P: Final = np.array([0.55, 0.31, 0.10, 0.03, 0.01])  # 1..5 children
SHARED_EXTRA_P: Final = np.array([0.5, 0.3, 0.15, 0.05])  # 1..4 co-residents
COLLECTIVE_SHARE: Final = 0.0105  # persons in care homes (collective households, code 20)
COLLECTIVE_MIN_PERSONS: Final = 2_000  # no care home in a smaller city
REFERENCE_ADDRESS_SHARE_OF_SINGLES: Final = 0.022  # homeless at the OCMW (~0.4% of persons)

# Member roles.
REF, PARTNER, CHILD, EXTRA, RESIDENT = range(5)

POSITION_CODES: Final = ("01", "02", "03", "05", "06", "09", "12", "13", "20", "21", "22")
P01, P02, P03, P05, P06, P09, P12, P13, P20, P21, P22 = range(11)

REGISTERS: Final = ("population", "foreigners", "waiting")


def rng_for(seed: int, stage: int) -> np.random.Generator:
    """An independent random stream per generation stage, so stages do not shift each other."""
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(stage,)))


# ----------------------------------------------------------------------------- households


@dataclass
class Households:
    """One entry per (truth) household; index = household number - 1."""

    kind: Array  # household type
    size: Array
    has_partner: Array
    n_children: Array
    n_extra: Array
    extra_pos: Array  # position of the extras (06, 05, 12, 09)
    union_pos: Array  # position of the partner (02, 21, 22)
    grand: Array  # multi-generation with grandchildren (ref is the grandparent)
    ref_age: Array
    reference_address: Array
    collective: Array
    postcode: Array  # index into the place's postcodes
    street: Array  # index into the street list
    house_number: Array
    box: Array  # 0 none, -1 letter A, n > 0 "bus n"
    nationality: Array  # index into NATIONALITIES
    deprivation: Array  # latent poverty score (higher is poorer)

    @property
    def count(self) -> int:
        return int(self.kind.shape[0])


def _draw_private(count: int, rng: np.random.Generator) -> dict[str, Array]:
    """A batch of private households (types and member counts), not yet cut to size."""
    kind = rng.choice(7, size=count, p=TYPE_P)
    u = rng.random((4, count))
    multigen = kind == MULTIGEN
    grand = multigen & (u[0] < 0.4)
    has_partner = (kind == COUPLE) | (kind == FAMILY) | (multigen & (u[1] < 0.65))
    n_children = np.zeros(count, dtype=np.int64)
    family_children = 1 + rng.choice(6, size=count, p=FAMILY_CHILDREN_P)
    single_parent_children = 1 + rng.choice(5, size=count, p=SINGLE_PARENT_CHILDREN_P)
    multigen_children = rng.choice(4, size=count, p=[0.3, 0.3, 0.3, 0.1])
    n_children = np.where(kind == FAMILY, family_children, n_children)
    n_children = np.where(kind == SINGLE_PARENT, single_parent_children, n_children)
    n_children = np.where(multigen, np.where(grand, 1, multigen_children), n_children)
    n_extra = np.zeros(count, dtype=np.int64)
    n_extra = np.where(multigen & ~grand, 1 + (u[2] < 0.3), n_extra)
    n_extra = np.where(grand, 1 + rng.choice(3, size=count, p=[0.5, 0.35, 0.15]), n_extra)
    n_extra = np.where(kind == SHARED, 1 + rng.choice(4, size=count, p=SHARED_EXTRA_P), n_extra)
    n_extra = np.where(kind == RELATIVES, 1 + (u[3] < 0.2), n_extra)
    extra_pos = np.select(
        [multigen & ~grand, grand, kind == SHARED, kind == RELATIVES], [P06, P05, P12, P09], P12
    )
    return {
        "kind": kind.astype(np.int64),
        "has_partner": has_partner,
        "n_children": n_children.astype(np.int64),
        "n_extra": n_extra.astype(np.int64),
        "extra_pos": extra_pos.astype(np.int64),
        "grand": grand,
    }


def _private_households(persons: int, rng: np.random.Generator) -> dict[str, Array]:
    """Private households whose sizes add up to exactly `persons`."""
    parts: list[dict[str, Array]] = []
    total = 0
    while total < persons:
        batch = _draw_private(int(persons / 1.9) + 64, rng)
        parts.append(batch)
        total += int((1 + batch["has_partner"] + batch["n_children"] + batch["n_extra"]).sum())
    drawn = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    size = 1 + drawn["has_partner"] + drawn["n_children"] + drawn["n_extra"]
    ends = np.cumsum(size)
    last = int(np.searchsorted(ends, persons))
    cut = {key: value[: last + 1].copy() for key, value in drawn.items()}
    # The last household is trimmed to fit: extras go first, then children, then the partner.
    excess = int(ends[last]) - persons
    for key in ("n_extra", "n_children"):
        take = min(excess, int(cut[key][last]))
        cut[key][last] -= take
        excess -= take
    if excess:
        cut["has_partner"][last] = False
    return cut


def _care_home_sizes(persons: int, rng: np.random.Generator) -> Array:
    """Sizes of the care homes (collective households) for a city of `persons`."""
    residents = round(persons * COLLECTIVE_SHARE) if persons >= COLLECTIVE_MIN_PERSONS else 0
    if residents == 0:
        return np.zeros(0, dtype=np.int64)
    sizes = rng.integers(40, 161, size=residents // 40 + 2)
    ends = np.cumsum(sizes)
    last = int(np.searchsorted(ends, residents))
    sizes = sizes[: last + 1].copy()
    sizes[-1] -= int(ends[last]) - residents
    if sizes[-1] < 10 and sizes.shape[0] > 1:  # fold a tiny remainder into the previous home
        sizes[-2] += sizes[-1]
        sizes = sizes[:-1]
    return sizes.astype(np.int64)


def _ref_ages(kind: Array, grand: Array, refaddr: Array, rng: np.random.Generator) -> Array:
    """Age (years, float) of the reference person of each household, by household type."""
    count = kind.shape[0]
    u = rng.random(count)
    g = rng.random(count)
    elderly = 65 + 33 * (1 - np.sqrt(u))  # 65-98, denser near 65
    single = np.where(g < 0.36, 19 + 16 * u, np.where(g < 0.69, 35 + 30 * u, elderly))
    couple = np.where(g < 0.28, 22 + 18 * u, np.where(g < 0.55, 40 + 25 * u, elderly))
    normal = rng.standard_normal(count)
    family = np.clip(41 + 7 * normal, 23, 64)
    single_parent = np.clip(40 + 8 * normal, 20, 66)
    multigen = np.where(grand, np.clip(70 + 7 * normal, 55, 92), np.clip(47 + 7 * normal, 30, 64))
    shared = np.where(g < 0.85, 19 + 12 * u, 31 + 30 * u)
    relatives = 20 + 60 * u
    age = np.select(
        [
            kind == SINGLE,
            kind == COUPLE,
            kind == FAMILY,
            kind == SINGLE_PARENT,
            kind == MULTIGEN,
            kind == SHARED,
        ],
        [single, couple, family, single_parent, multigen, shared],
        relatives,
    )
    homeless = np.clip(40 + 11 * normal, 18, 75)
    ages: Array = np.where(refaddr, homeless, age)
    return ages


def _postcode_street_blocks(place: Place) -> tuple[Array, Array]:
    """Each postcode owns a contiguous block of the street list, sized by its population share."""
    streets = len(place.streets)
    shares = np.array([share for _, share in place.postcodes])
    shares = shares / shares.sum()
    lengths = np.maximum(5, np.floor(shares * streets)).astype(np.int64)
    lengths[0] += streets - int(lengths.sum())  # the centre takes the rest
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return starts.astype(np.int64), lengths


def build_households(persons: int, seed: int, place: Place = GHENT) -> Households:
    """The city's households (ground truth) in `place`, sizes adding up to exactly `persons`."""
    rng = rng_for(seed, 1)
    care_homes = _care_home_sizes(persons, rng)
    private = _private_households(persons - int(care_homes.sum()), rng)
    n_private = private["kind"].shape[0]
    n_care = care_homes.shape[0]
    count = n_private + n_care

    kind = np.concatenate([private["kind"], np.full(n_care, COLLECTIVE, dtype=np.int64)])
    has_partner = np.concatenate([private["has_partner"], np.zeros(n_care, dtype=bool)])
    n_children = np.concatenate([private["n_children"], np.zeros(n_care, dtype=np.int64)])
    n_extra = np.concatenate([private["n_extra"], np.zeros(n_care, dtype=np.int64)])
    extra_pos = np.concatenate([private["extra_pos"], np.full(n_care, P20, dtype=np.int64)])
    grand = np.concatenate([private["grand"], np.zeros(n_care, dtype=bool)])
    size = np.where(kind == COLLECTIVE, 0, 1 + has_partner + n_children + n_extra)
    size[n_private:] = care_homes
    collective = kind == COLLECTIVE

    u = rng.random((6, count))
    refaddr = (kind == SINGLE) & (u[0] < REFERENCE_ADDRESS_SHARE_OF_SINGLES)
    ref_age = _ref_ages(kind, grand, refaddr, rng)

    # Partner's position: married (02), legal cohabitant (22) or de facto partner (21), by age.
    married_p = np.where(ref_age < 35, 0.30, np.where(ref_age < 55, 0.55, 0.85))
    legal_p = np.where(ref_age < 35, 0.25, np.where(ref_age < 55, 0.20, 0.07))
    union_pos = np.where(u[1] < married_p, P02, np.where(u[1] < married_p + legal_p, P22, P21))

    # Address: postcode by population share, a street of that postcode, a house number.
    block_start, block_len = _postcode_street_blocks(place)
    shares = np.array([share for _, share in place.postcodes])
    postcode = rng.choice(len(place.postcodes), size=count, p=shares / shares.sum())
    street = block_start[postcode] + np.floor(u[2] * block_len[postcode]).astype(np.int64)
    house_number = np.floor(np.exp(u[3] * np.log(240))).astype(np.int64)
    flat_p = np.where(postcode == 0, 0.30, 0.10)
    box = np.where(
        u[4] < flat_p, 1 + np.floor(u[5] * 12).astype(np.int64), np.where(u[4] > 0.97, -1, 0)
    )
    box = np.where(collective, 0, box)

    weights = np.array([weight for _, _, weight, _ in NATIONALITIES])
    nationality = rng.choice(len(NATIONALITIES), size=count, p=weights / weights.sum())
    nationality = np.where(collective & (rng.random(count) < 0.97), 0, nationality)
    nationality = np.where(refaddr & (rng.random(count) < 0.6), 0, nationality)

    region = np.array([REGIONS.index(r) for _, r, _, _ in NATIONALITIES])[nationality]
    region_shift = np.array([-0.1, 0.35, 0.0, 0.65, 0.75, 0.1])[region]
    deprivation = (
        rng.standard_normal(count)
        + region_shift
        + np.where(kind == SINGLE_PARENT, 0.55, 0.0)
        + np.where(kind == SHARED, -0.3, 0.0)
        + np.where(refaddr, 2.0, 0.0)
    )
    return Households(
        kind=kind.astype(np.int8),
        size=size.astype(np.int32),
        has_partner=has_partner,
        n_children=n_children.astype(np.int8),
        n_extra=n_extra.astype(np.int8),
        extra_pos=extra_pos.astype(np.int8),
        union_pos=union_pos.astype(np.int8),
        grand=grand,
        ref_age=ref_age.astype(np.float32),
        reference_address=refaddr,
        collective=collective,
        postcode=postcode.astype(np.int8),
        street=street.astype(np.int16),
        house_number=house_number.astype(np.int16),
        box=box.astype(np.int8),
        nationality=nationality.astype(np.int8),
        deprivation=deprivation.astype(np.float32),
    )


# ----------------------------------------------------------------------------- persons


@dataclass
class Persons:
    """One entry per person, ordered by (truth) household and member rank."""

    hh: Array  # truth household index
    rank: Array
    role: Array
    pos: Array  # index into POSITION_CODES (truth)
    age: Array  # whole years on the reference date
    birth: Array  # days since 1970-01-01
    male: Array
    nationality: Array  # index into NATIONALITIES
    register: Array  # index into REGISTERS
    region: Array  # name region index
    first_name: Array  # index into first_name_list()
    last_name: Array  # index into last_name_list()
    latent: Array  # person's poverty score (household score plus noise)
    insz: Array  # int64 INSZ number (11 digits)

    @property
    def count(self) -> int:
        return int(self.hh.shape[0])


def _member_ages(hh: Households, p_hh: Array, role: Array, rng: np.random.Generator) -> Array:
    """Age in years (float) of every member, consistent with the household's reference person."""
    count = int(p_hh.shape[0])
    ref_age = hh.ref_age[p_hh].astype(np.float64)
    age = ref_age.copy()  # reference persons

    partner = role == PARTNER
    age[partner] = np.maximum(18.0, ref_age[partner] + 3.5 * rng.standard_normal(count)[partner])

    # Children: the parent's age minus an age at birth of 21-41; a parent too young for that gap
    # gets a young child; grown-up children who still live at home are 16-30. In a
    # multi-generation household with grandchildren the child is an adult (the grandkids' parent).
    child = np.flatnonzero(role == CHILD)
    parent_age = ref_age[child]
    u0 = rng.random(count)[child]
    u1 = rng.random(count)[child]
    years = parent_age - (21 + 20 * u0)
    years = np.where(years < 0, u1 * np.maximum(parent_age - 20, 0.5), years)
    years = np.where(years > 30, 16 + 14 * u1, years)
    adult_child = np.maximum(18.0, parent_age - (24 + 12 * u0))
    age[child] = np.where(hh.grand[p_hh[child]], adult_child, years)

    extra = np.flatnonzero(role == EXTRA)
    host_age = ref_age[extra]
    extra_pos = hh.extra_pos[p_hh[extra]]
    u2 = rng.random(count)[extra]
    normal = rng.standard_normal(count)[extra]
    age[extra] = np.select(
        [extra_pos == P06, extra_pos == P05, extra_pos == P09],
        [
            np.minimum(101.0, host_age + 22 + 12 * u2),
            u2 * np.minimum(17.0, np.maximum(host_age - 42, 1.0)),
            np.maximum(18.0, host_age + 6 * normal),
        ],
        np.where(host_age < 32, 19 + 12 * u2, np.clip(host_age + 10 * normal, 18, 90)),
    )
    resident = role == RESIDENT
    age[resident] = np.clip(85 + 7 * rng.standard_normal(count)[resident], 62, 104)
    return age


def _zipf_pick(pool_of: Array, pool_sizes: list[int], rng: np.random.Generator) -> Array:
    """Index within its pool for every entry, Zipf-like so some names are much more common."""
    u = rng.random(int(pool_of.shape[0]))
    picked = np.zeros(pool_of.shape[0], dtype=np.int16)
    for pool, size in enumerate(pool_sizes):
        mask = pool_of == pool
        if not mask.any():
            continue
        weights = 1.0 / (np.arange(size) + 4.0) ** 0.9
        cumulative = np.cumsum(weights) / weights.sum()
        picked[mask] = np.minimum(np.searchsorted(cumulative, u[mask]), size - 1)
    return picked


def first_name_pools() -> list[tuple[tuple[str, str, str], list[str]]]:
    """The first-name pools in a fixed order."""
    return list(FIRST_NAME_POOLS.items())


def first_name_list() -> list[str]:
    """All first names, pools concatenated (indices in `Persons.first_name` point here)."""
    return [name for _, names in first_name_pools() for name in names]


def last_name_list() -> list[str]:
    """All last names, pools concatenated in REGIONS order."""
    return [name for region in REGIONS for name in LAST_NAME_POOLS[region]]


def date_parts(days: Array) -> tuple[Array, Array, Array]:
    """Year, month and day (int64 arrays) of days since 1970-01-01 (proleptic Gregorian)."""
    z = days.astype(np.int64) + 719_468  # days since 0000-03-01
    era = np.floor_divide(z, 146_097)
    day_of_era = z - era * 146_097
    year_of_era = (
        day_of_era - day_of_era // 1_460 + day_of_era // 36_524 - day_of_era // 146_096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted_month = (5 * day_of_year + 2) // 153  # March = 0
    day = day_of_year - (153 * shifted_month + 2) // 5 + 1
    month = np.where(shifted_month < 10, shifted_month + 3, shifted_month - 9)
    year = year_of_era + era * 400 + (month <= 2)
    return year, month, day


def whole_years(birth: Array, on: date) -> Array:
    """Age in whole years on a date, for birth days since 1970-01-01."""
    year, month, day = date_parts(birth)
    not_yet = (month > on.month) | ((month == on.month) & (day > on.day))
    years: Array = (on.year - year - not_yet).astype(np.int16)
    return years


def insz_numbers(birth: Array, male: Array) -> tuple[Array, Array]:
    """Unique MAGDA test INSZ numbers (month + 60) for the given birth days and sexes.

    The day counter is odd for men (1, 3, ... 997) and even for women (2, 4, ... 998), numbered in
    person order within each (birth day, sex); a day whose counters run out (more than 499 people)
    moves its overflow one day earlier. Returns the numbers (int64) and the final birth days.
    Same check-digit rule as `entitle.insz.make_insz`, vectorised.
    """
    days = birth.astype(np.int64)
    while True:
        key = days * 2 + male
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        del key
        starts = np.concatenate([[True], sorted_key[1:] != sorted_key[:-1]])
        del sorted_key
        group_start = np.maximum.accumulate(np.where(starts, np.arange(days.shape[0]), 0))
        rank = np.empty_like(days)
        rank[order] = np.arange(days.shape[0]) - group_start
        del order, group_start, starts
        overflow = rank >= 499
        if not overflow.any():
            break
        days[overflow] -= 1
    counter = np.where(male, 2 * rank + 1, 2 * rank + 2)
    del rank
    year, month, day = date_parts(days)
    first9 = (year % 100) * 10_000_000 + (month + 60) * 100_000 + day * 1_000 + counter
    del month, day, counter
    check = 97 - (first9 + np.where(year >= 2000, 2_000_000_000, 0)) % 97
    return first9 * 100 + check, days.astype(np.int32)


def _roles(
    hh: Households, p_hh: Array, rank: Array, rng: np.random.Generator
) -> tuple[Array, Array]:
    """Member role and (truth) position code index of every person."""
    has_partner = hh.has_partner[p_hh]
    role = np.select(
        [
            hh.collective[p_hh],
            rank == 0,
            has_partner & (rank == 1),
            rank < 1 + has_partner + hh.n_children[p_hh],
        ],
        [RESIDENT, REF, PARTNER, CHILD],
        EXTRA,
    ).astype(np.int8)
    del has_partner
    stepchild = (
        (role == CHILD)
        & (hh.kind[p_hh] == FAMILY)
        & (hh.union_pos[p_hh] != P02)
        & (rng.random(p_hh.shape[0]) < 0.15)
    )
    pos = np.select(
        [role == RESIDENT, role == REF, role == PARTNER, stepchild, role == CHILD],
        [P20, P01, hh.union_pos[p_hh], P13, P03],
        hh.extra_pos[p_hh],
    ).astype(np.int8)
    return role, pos


def _sexes(
    hh: Households, p_hh: Array, role: Array, starts: Array, rng: np.random.Generator
) -> Array:
    """Sex (True = man): reference persons of couples are more often men, single parents and
    elderly singles more often women; partners are mostly of the other sex."""
    kind = hh.kind[p_hh]
    male_p = np.select(
        [
            role == RESIDENT,
            (kind == SINGLE) & (hh.ref_age[p_hh] >= 65),
            kind == SINGLE_PARENT,
            hh.reference_address[p_hh],
            np.isin(kind, [COUPLE, FAMILY, MULTIGEN]),
        ],
        [0.3, 0.35, 0.18, 0.78, 0.68],
        0.51,
    )
    del kind
    male = rng.random(p_hh.shape[0]) < male_p
    del male_p
    ref_male = male[starts][p_hh]
    other_sex = rng.random(p_hh.shape[0]) < 0.96
    return np.where(role == PARTNER, np.where(other_sex, ~ref_male, ref_male), male)


def _nationalities(
    hh: Households, p_hh: Array, role: Array, rng: np.random.Generator
) -> tuple[Array, Array]:
    """Nationality (the household's, with Belgian partners and Belgian-born children mixed in)
    and register (population, foreigners, waiting)."""
    count = int(p_hh.shape[0])
    hh_nat = hh.nationality[p_hh]
    foreign_hh = hh_nat != 0
    weights = np.array([weight for _, _, weight, _ in NATIONALITIES])
    random_nat = rng.choice(len(NATIONALITIES), size=count, p=weights / weights.sum())
    u = rng.random(count)
    nationality = np.select(
        [
            (role == PARTNER) & foreign_hh,
            role == PARTNER,
            (role == CHILD) & foreign_hh,
        ],
        [
            np.where(u < 0.7, hh_nat, 0),
            np.where(u < 0.92, 0, random_nat),
            np.where(u < 0.35, 0, hh_nat),
        ],
        hh_nat,
    ).astype(np.int8)
    del random_nat, foreign_hh, hh_nat
    asylum = np.array([flag for _, _, _, flag in NATIONALITIES])[nationality]
    u = rng.random(count)
    register = np.where(
        nationality == 0,
        0,
        np.where(
            asylum,
            np.where(u < 0.25, 2, np.where(u < 0.85, 1, 0)),
            np.where(u < 0.75, 1, 0),
        ),
    ).astype(np.int8)
    return nationality, register


def _names(
    hh: Households,
    p_hh: Array,
    role: Array,
    pos: Array,
    male: Array,
    nationality: Array,
    birth: Array,
    starts: Array,
    rng: np.random.Generator,
) -> tuple[Array, Array, Array]:
    """Name region, first name and last name (indices into the name lists) of every person.

    First names come from the pool of the region (own nationality for partners and care-home
    residents, the household's for the others), sex and birth cohort. Children take the father's
    last name: the reference person's, or the partner's when the partner is the man;
    grandchildren and siblings take the reference person's.
    """
    count = int(p_hh.shape[0])
    region_of_nat = np.array([REGIONS.index(r) for _, r, _, _ in NATIONALITIES], dtype=np.int8)
    own_region = (role == PARTNER) | (role == RESIDENT)
    region = np.where(own_region, region_of_nat[nationality], region_of_nat[hh.nationality[p_hh]])
    del own_region
    born_before_1980 = birth < (date(1980, 1, 1) - EPOCH).days
    pools = first_name_pools()
    pool_of = np.zeros(count, dtype=np.int8)
    for index, ((region_name, sex, cohort), _) in enumerate(pools):
        mask = (region == REGIONS.index(region_name)) & (male == (sex == "M"))
        if cohort == "old":
            mask &= born_before_1980
        elif cohort == "new":
            mask &= ~born_before_1980
        pool_of[mask] = index
    del born_before_1980
    sizes = [len(names) for _, names in pools]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int16)
    first_name = offsets[pool_of] + _zipf_pick(pool_of, sizes, rng)
    del pool_of

    last_sizes = [len(LAST_NAME_POOLS[r]) for r in REGIONS]
    last_offsets = np.concatenate([[0], np.cumsum(last_sizes)[:-1]]).astype(np.int16)
    own_last = last_offsets[region] + _zipf_pick(region, last_sizes, rng)
    ref_last = own_last[starts][p_hh]
    ref_male = male[starts][p_hh]
    partner_index = np.minimum(starts + 1, count - 1)[p_hh]
    partner_male = hh.has_partner[p_hh] & male[partner_index] & ~ref_male
    family_last = np.where(partner_male, own_last[partner_index], ref_last)
    del ref_male, partner_male, partner_index
    last_name = np.select(
        [
            role == CHILD,
            (role == EXTRA) & ((pos == P05) | (pos == P09)),
            (role == EXTRA) & (pos == P06) & male,
        ],
        [family_last, ref_last, ref_last],
        own_last,
    ).astype(np.int16)
    return region.astype(np.int8), first_name.astype(np.int16), last_name


def build_persons(hh: Households, seed: int, reference: date = REFERENCE_DATE) -> Persons:
    """Expand households into members: roles, positions, ages on the `reference` date, sex,
    nationality, names, INSZ."""
    rng = rng_for(seed, 2)
    count = int(hh.size.sum())
    p_hh = np.repeat(np.arange(hh.count, dtype=np.int32), hh.size)
    starts = np.concatenate([[0], np.cumsum(hh.size)[:-1]]).astype(np.int64)
    rank = (np.arange(count, dtype=np.int64) - starts[p_hh]).astype(np.int16)
    role, pos = _roles(hh, p_hh, rank, rng)
    age_float = _member_ages(hh, p_hh, role, rng)
    ref_day = (reference - EPOCH).days
    birth = (
        ref_day - np.floor((np.floor(age_float) + rng.random(count)) * DAYS_PER_YEAR) - 1
    ).astype(np.int64)
    del age_float
    male = _sexes(hh, p_hh, role, starts, rng)
    nationality, register = _nationalities(hh, p_hh, role, rng)
    region, first_name, last_name = _names(
        hh, p_hh, role, pos, male, nationality, birth, starts, rng
    )
    latent = (0.8 * hh.deprivation[p_hh] + 0.6 * rng.standard_normal(count)).astype(np.float32)
    insz, birth = insz_numbers(birth, male)
    return Persons(
        hh=p_hh,
        rank=rank,
        role=role,
        pos=pos,
        age=whole_years(birth, reference),
        birth=birth,
        male=male,
        nationality=nationality,
        register=register,
        region=region,
        first_name=first_name,
        last_name=last_name,
        latent=latent,
        insz=insz,
    )
