"""Grey zones of the synthetic city: where the registry view and the ground truth part ways.

Drawn at realistic rates, per person (see docs/synthetic-city.md):

- separated_parents: a child of separated parents lives in two homes; the register has one
  address and, only when the parents asked for it, a shared-residence note;
- unregistered_cohabitant: a de facto partner lives in the household but is registered elsewhere
  (another address in the city or another municipality);
- reference_address: homeless, registered at the OCMW's reference address; no fixed abode;
- not_integrated: the KSZ has no data for the person (MSG00021): recent arrivals mostly;
- no_assessment: an adult with income but no Belgian tax assessment (newcomer, foreign income);
- registry_lag: a status granted in reality but not yet visible in the registry (drawn with the
  statuses, in synth_money.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from entitle.registry.synth_people import (
    CHILD,
    COLLECTIVE,
    COUPLE,
    FAMILY,
    P13,
    P21,
    PARTNER,
    RESIDENT,
    SINGLE,
    SINGLE_PARENT,
    Array,
    Households,
    Persons,
    rng_for,
)
from entitle.registry.synth_place import GHENT, Place

SHARED_RESIDENCE_P: Final = 0.28  # children of separated parents who live in both homes
SHARED_NOTE_P: Final = 0.55  # of those, the parents had the note registered
UNREGISTERED_PARTNER_P: Final = 0.12  # de facto partners (21) registered elsewhere
UNREGISTERED_ELSEWHERE_P: Final = 0.35  # ... of whom in another municipality
NEWCOMER_HOUSEHOLD_P: Final = 0.20  # foreign households that arrived in the last two years
FOREIGN_INCOME_P: Final = 0.004  # Belgian adults with only foreign income (no assessment)


@dataclass
class Grey:
    """Per-person grey-zone flags (truth side) and the registry placement of cohabitants."""

    separated: Array  # child of separated parents living in two homes (truth)
    shared_note: Array  # registry shows the shared-residence note
    second_household: Array  # the other parent's household index, -1 if none
    unregistered: Array  # de facto partner not registered in the household
    unregistered_here: Array  # ... registered elsewhere in the city (else another municipality)
    unregistered_postcode: Array  # postcode index (the city's list or the neighbours' list)
    unregistered_street: Array
    unregistered_number: Array
    newcomer: Array  # arrived recently (household), no Belgian history yet
    foreign_income: Array  # Belgian with foreign income only
    not_integrated: Array  # KSZ has no data


def build_grey(hh: Households, p: Persons, streets: int, seed: int, place: Place = GHENT) -> Grey:
    """Draw the grey-zone flags for persons (registry lag comes with the statuses)."""
    rng = rng_for(seed, 3)
    count = p.count
    u = rng.random((6, count))
    hh_u = rng.random((3, hh.count))
    kind = hh.kind[p.hh]

    # Separated parents: children of single parents and stepchildren, per household (siblings
    # share the arrangement). The other parent's household: a private household whose reference
    # person is 25-60, a single, a couple or a family.
    minor_child = (p.role == CHILD) & (p.age < 18)
    candidate_child = minor_child & ((kind == SINGLE_PARENT) | (p.pos == P13))
    separated = candidate_child & (hh_u[0][p.hh] < SHARED_RESIDENCE_P)
    shared_note = separated & (hh_u[1][p.hh] < SHARED_NOTE_P)
    candidates = np.flatnonzero(
        np.isin(hh.kind, [SINGLE, COUPLE, FAMILY])
        & ~hh.reference_address
        & (hh.ref_age >= 25)
        & (hh.ref_age <= 60)
    )
    second_household = np.full(count, -1, dtype=np.int64)
    if candidates.shape[0] >= 2:
        pick = candidates[rng.integers(0, candidates.shape[0], size=hh.count)]
        alternative = candidates[rng.integers(0, candidates.shape[0], size=hh.count)]
        own = pick == np.arange(hh.count)
        pick = np.where(own, alternative, pick)
        own = pick == np.arange(hh.count)
        second_household = np.where(separated & ~own[p.hh], pick[p.hh], -1)
        separated = second_household >= 0
        shared_note &= separated
    else:
        separated = np.zeros(count, dtype=bool)
        shared_note = np.zeros(count, dtype=bool)

    # Unregistered cohabitants: de facto partners registered at another address.
    unregistered = (p.role == PARTNER) & (p.pos == P21) & (u[0] < UNREGISTERED_PARTNER_P)
    unregistered_here = u[1] >= UNREGISTERED_ELSEWHERE_P
    here_pc = rng.choice(len(place.postcodes), size=count)
    other_pc = rng.integers(0, len(place.neighbours), size=count)
    unregistered_postcode = np.where(unregistered_here, here_pc, other_pc)
    unregistered_street = rng.integers(0, streets, size=count)
    unregistered_number = np.floor(np.exp(u[2] * np.log(200))).astype(np.int64)

    # Newcomers: whole foreign households that arrived recently; Belgians with foreign income.
    adult = p.age >= 18
    foreign_household = hh.nationality != 0
    newcomer_household = foreign_household & (hh_u[2] < NEWCOMER_HOUSEHOLD_P)
    in_care = kind == COLLECTIVE
    newcomer = newcomer_household[p.hh] & ~in_care & ~hh.reference_address[p.hh]
    foreign_income = adult & (p.nationality == 0) & ~newcomer & ~in_care & (u[3] < FOREIGN_INCOME_P)

    # Not integrated at the KSZ: many recent arrivals and people in the waiting register (no
    # social-security history yet). Anyone else without KSZ data is not inscribed for the asking
    # consumer: the simulator's repertory says so (--require-inscriptions), not a draw here.
    waiting = p.register == 2
    not_integrated_p = np.where(newcomer, 0.20, np.where(waiting, 0.20, 0.0))
    not_integrated = (u[4] < not_integrated_p) & (p.role != RESIDENT)
    return Grey(
        separated=separated,
        shared_note=shared_note,
        second_household=second_household.astype(np.int32),
        unregistered=unregistered,
        unregistered_here=unregistered_here & unregistered,
        unregistered_postcode=unregistered_postcode.astype(np.int8),
        unregistered_street=unregistered_street.astype(np.int16),
        unregistered_number=unregistered_number.astype(np.int16),
        newcomer=newcomer,
        foreign_income=foreign_income,
        not_integrated=not_integrated,
    )
