"""Incomes, tax assessments, social statuses, disability and OCMW data of the synthetic city.

All of it is drawn as ground truth; `synth.py` derives the registry view (registry lag, persons
not integrated at the KSZ, assessments missing for newcomers). Amounts are euro cents.

The increased allowance (VT) follows BELGIUM.md: automatic with leefloon for 3 months or more,
the income guarantee for the elderly (IGO), a disability allowance (IVT/IT), the care budget for the
elderly (APA) or a child disability supplement, and extended to the holder's partner and
dependants; otherwise on request when the VT household's gross taxable income is under the
ceiling, with a take-up of 70%.

Each stage is a function of its own so that its temporaries are freed when it returns (a Flanders
-sized city has 6.8 million persons).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np

from entitle.registry.synth_grey import Grey
from entitle.registry.synth_people import (
    CHILD,
    EPOCH,
    P01,
    P02,
    P03,
    P05,
    P12,
    P13,
    P21,
    P22,
    PARTNER,
    REF,
    REFERENCE_DATE,
    RESIDENT,
    SINGLE,
    SINGLE_PARENT,
    Array,
    Households,
    Persons,
    rng_for,
)
from entitle.rules.catalogue import assessment_years


def income_years(reference: date) -> tuple[int, int]:
    """The two income years whose assessments the city holds on `reference`, oldest first: the
    ones the rules read on that date (`assessment_years`), e.g. (2023, 2024) on 1 March 2026."""
    latest, previous = assessment_years(reference)
    return previous, latest


INCOME_YEARS: Final = income_years(REFERENCE_DATE)
STATUSES: Final = (
    "BIM_BVT",
    "LIVING_WAGES_PCSA_HELP",
    "PCSA_AND_BIM_HELP",
    "GENT_PARKING_ADULT",
    "GENT_PARKING_CHILD",
)
BIM, LIVING_WAGES, PCSA_BIM, PARKING_ADULT, PARKING_CHILD = range(5)
NO_END: Final = int(np.iinfo(np.int32).max)  # an open period

# Calibration (see docs/synthetic-city.md and `entitle synth --report`).
LEEFLOON_SHARE_WORKING_AGE: Final = 0.040  # ~6,000 persons in a Ghent-sized city
EMPLOYED_SHARE: Final = 0.75  # of working-age adults without leefloon
BENEFITS_SHARE_OF_OTHERS: Final = 0.62  # unemployment, sickness, disability; the rest: no income
DISABILITY_ALLOWANCE_SHARE: Final = 0.13  # of those on benefits (IVT/IT, automatic VT)
IGO_SHARE_RETIRED: Final = 0.06
VT_TAKE_UP: Final = 0.70
VT_CEILING_BASE_CENTS: Final = 2_563_067  # 2024 (2023 incomes), BELGIUM.md
VT_CEILING_EXTRA_CENTS: Final = 474_494
PROFESSIONAL_COSTS_CAP_CENTS: Final = 593_000  # lump-sum professional costs on wages (about 2024)
REGISTRY_LAG_DAYS: Final = 45  # a status granted in the last 45 days is not yet visible
DEBT_HELP_SHARE: Final = 0.015
BUDGET_GUIDANCE_SHARE: Final = 0.011
LATE_ASSESSMENT_SHARE: Final = 0.06  # income year 2024 not yet assessed on the reference date
LEEFLOON_MEAN_DAYS: Final = 600.0


def _day(value: date) -> int:
    return (value - EPOCH).days


@dataclass
class Periods:
    """Status periods (truth): one entry per period."""

    person: Array
    status: Array
    start: Array  # days since epoch
    end: Array  # days since epoch, NO_END when open
    lag: Array  # granted recently: not yet in the registry view


@dataclass
class Economy:
    """Incomes (truth) and everything drawn from them."""

    income: Array  # (2, N) total taxable income per income year, cents
    professional: Array  # (2, N) the professional part (item 7270), cents
    assessed: Array  # (2, N) has an assessment for the income year (truth)
    no_assessment: Array  # (N,) assessed in truth, none in the registry (newcomer, foreign)
    leefloon_now: Array  # current leefloon or equivalent (truth; the OCMW knows it)
    periods: Periods
    disability_person: Array
    disability_recognised: Array
    disability_since: Array
    disability_points: Array
    debt_help: Array
    budget_guidance: Array
    ocmw_client: Array  # has a row in the OCMW dataset


@dataclass
class _Work:
    """The economic situation of every person (intermediate)."""

    adult: Array
    retired: Array
    working_age: Array
    in_care: Array
    leefloon_score: Array
    leefloon_now: Array
    leefloon_start: Array
    employed: Array
    on_benefits: Array  # unemployment, sickness or disability benefits
    no_income: Array  # working age, no work, no benefits (some small income)
    student_job: Array
    disability_allowance: Array
    igo: Array


@dataclass
class _Disability:
    parking_adult: Array
    parking_child: Array
    recognised: Array
    refused: Array
    points: Array
    since: Array
    first_possible: Array
    elderly_care_budget: Array


def _quantile_mask(score: Array, eligible: Array, share: float) -> Array:
    """The `share` of eligible entries with the highest score (empty when none is eligible)."""
    if not eligible.any():
        return np.zeros(score.shape[0], dtype=bool)
    threshold = np.quantile(score[eligible], 1.0 - share)
    mask: Array = eligible & (score > threshold)
    return mask


def _uniform_days(rng: np.random.Generator, low: Array, high: Array) -> Array:
    """A day uniformly in [low, high] (arrays of days; high is raised to low where smaller)."""
    low = low.astype(np.int64)
    high = np.maximum(high, low)
    return (low + np.floor(rng.random(low.shape[0]) * (high - low + 1))).astype(np.int64)


def _work(hh: Households, p: Persons, rng: np.random.Generator, ref_day: int) -> _Work:
    """Who is retired, on leefloon, employed, on benefits (ground truth)."""
    count = p.count
    kind = hh.kind[p.hh]
    age = p.age
    adult = age >= 18
    in_care = p.role == RESIDENT
    dependent_young = (p.role == CHILD) & adult & (age < 25)
    retired = in_care | (adult & (age >= 65)) | (adult & (age >= 60) & (rng.random(count) < 0.35))
    working_age = adult & ~retired & ~dependent_young

    leefloon_score = (
        p.latent
        + 0.5 * rng.standard_normal(count)
        + np.where(kind == SINGLE, 0.3, 0.0)
        + np.where((kind == SINGLE_PARENT) & (p.role == REF), 0.5, 0.0)
        + np.where(hh.reference_address[p.hh], 1.5, 0.0)
        + np.where(age < 26, 0.2, 0.0)
    ).astype(np.float32)
    # The waiting register gets material aid, not leefloon.
    leefloon_now = _quantile_mask(
        leefloon_score, working_age & (p.register != 2), LEEFLOON_SHARE_WORKING_AGE
    )
    # Time on leefloon: exponential, mean 20 months, never before 2012.
    leefloon_start = np.maximum(
        ref_day - np.floor(rng.exponential(LEEFLOON_MEAN_DAYS, count)),
        _day(date(2012, 1, 1)),
    ).astype(np.int32)

    activity = p.latent + 0.6 * rng.standard_normal(count)
    candidates = working_age & ~leefloon_now
    employed = _quantile_mask(-activity, candidates, EMPLOYED_SHARE)
    del activity
    on_benefits = candidates & ~employed & (rng.random(count) < BENEFITS_SHARE_OF_OTHERS)
    disability_allowance = on_benefits & (rng.random(count) < DISABILITY_ALLOWANCE_SHARE)
    igo = _quantile_mask(p.latent + 0.4 * rng.standard_normal(count), retired, IGO_SHARE_RETIRED)
    student_job = dependent_young & (rng.random(count) < 0.45)
    return _Work(
        adult=adult,
        retired=retired,
        working_age=working_age,
        in_care=in_care,
        leefloon_score=leefloon_score,
        leefloon_now=leefloon_now,
        leefloon_start=leefloon_start,
        employed=employed,
        on_benefits=on_benefits,
        no_income=candidates & ~employed & ~on_benefits,
        student_job=student_job,
        disability_allowance=disability_allowance,
        igo=igo,
    )


def _incomes(p: Persons, w: _Work, rng: np.random.Generator) -> tuple[Array, Array]:
    """Total taxable income and its professional part, per income year (2, N), in cents."""
    count = p.count
    latent = p.latent
    normal = rng.standard_normal(count)
    u = rng.random(count)
    euros = np.zeros(count)
    wage = np.clip(37_500 * np.exp(-0.2 * latent + 0.4 * normal), 6_000, 500_000)
    euros = np.where(w.employed, wage, euros)
    del wage
    replacement = np.clip(17_000 * np.exp(-0.08 * latent + 0.2 * normal), 8_000, 40_000)
    euros = np.where(w.on_benefits, replacement, euros)
    del replacement
    small = rng.random(count)
    euros = np.where(w.no_income & (small < 0.3), 200 + 2_800 * u, euros)
    euros = np.where(w.leefloon_now & (small < 0.25), 500 + 7_500 * u, euros)
    pension = np.clip(31_000 * np.exp(-0.28 * latent + 0.35 * normal), 9_000, 150_000)
    euros = np.where(w.retired, pension, euros)
    del pension
    euros = np.where(w.igo, 9_000 + 4_000 * u, euros)
    euros = np.where(w.student_job, 1_000 + 8_000 * u, euros)
    other = np.where((euros > 0) & (rng.random(count) < 0.18), 300 + 2_200 * rng.random(count), 0)
    total_2024 = np.round((euros + other) * 100).astype(np.int64)
    professional_2024 = np.round(euros * 100).astype(np.int64)
    del euros, other
    drift = np.exp(0.08 * rng.standard_normal(count)) / 1.04
    total_2023 = np.round(total_2024 * drift).astype(np.int64)
    professional_2023 = np.minimum(np.round(professional_2024 * drift).astype(np.int64), total_2023)
    return (
        np.stack([total_2023, total_2024]),
        np.stack([professional_2023, professional_2024]),
    )


def _disability(p: Persons, w: _Work, rng: np.random.Generator, ref_day: int) -> _Disability:
    """Disability recognition (with points) and parking cards."""
    count = p.count
    age = p.age
    young_card_p = 0.006 + np.where(w.disability_allowance, 0.05, 0.0)
    card_p = np.select([age < 18, age < 65, age < 80], [0.0, young_card_p, 0.035], 0.09)
    card_p = np.where(w.in_care, 0.15, card_p)
    u = rng.random(count)
    parking_adult = u < card_p
    parking_child = (age < 18) & (u < 0.003)
    del card_p, young_card_p
    u = rng.random(count)
    elderly_care_budget = (age >= 65) & ~parking_adult & (u < 0.05)
    other_recognised = np.where(age < 18, u < 0.006, (age < 65) & (u < 0.015))
    recognised = (
        parking_adult
        | parking_child
        | w.disability_allowance
        | elderly_care_budget
        | other_recognised
    )
    refused = ~recognised & w.adult & (rng.random(count) < 0.004)
    u = rng.random(count)
    points = np.select(
        [parking_adult | parking_child, w.disability_allowance, elderly_care_budget, recognised],
        [12 + np.floor(u * 7), 7 + np.floor(u * 8), 7 + np.floor(u * 6), np.floor(u * 12)],
        np.floor(u * 6),
    ).astype(np.int8)
    eighteenth = p.birth + int(18 * 365.2425)
    first_possible = np.maximum(
        np.where(age < 18, p.birth + 365, eighteenth), _day(date(2005, 1, 1))
    ).astype(np.int32)
    since = _uniform_days(rng, first_possible, np.full(count, ref_day - 30))
    # never after the reference day: a recognition the registry holds has begun (a baby too young
    # for `first_possible` is recognised since birth or a month ago); a status dated in the future
    # would change a decision later without any mutation to say so
    since = np.minimum(since, np.maximum(p.birth, ref_day - 30)).astype(np.int32)
    return _Disability(
        parking_adult=parking_adult,
        parking_child=parking_child,
        recognised=recognised,
        refused=refused,
        points=points,
        since=since,
        first_possible=first_possible,
        elderly_care_budget=elderly_care_budget,
    )


def _increased_allowance(
    hh: Households,
    p: Persons,
    w: _Work,
    d: _Disability,
    income: Array,
    professional: Array,
    assessed: Array,
    rng: np.random.Generator,
    ref_day: int,
) -> Array:
    """Start day of each person's current VT (-1 = none)."""
    count = p.count
    age = p.age
    child_supplement = (age < 18) & d.recognised & (d.points >= 6)
    leefloon_vt = w.leefloon_now & (w.leefloon_start <= ref_day - 91)
    own_ground = w.igo | w.disability_allowance | (d.elderly_care_budget & (d.points >= 7))
    ground_start = _uniform_days(
        rng,
        np.maximum(p.birth + int(60 * 365.2425), _day(date(2010, 1, 1))),
        np.full(count, ref_day),
    )
    ground_start = np.where(w.disability_allowance | d.elderly_care_budget, d.since, ground_start)
    auto_start = np.select(
        [leefloon_vt, own_ground, child_supplement],
        [w.leefloon_start + 91, ground_start, d.since],
        -1,
    ).astype(np.int64)
    del ground_start, own_ground, leefloon_vt, child_supplement

    # VT household: head, partner and dependent children share a holder's VT; for the income
    # test, unrelated co-residents (12) count too. Parents (06), siblings (09), adult children
    # and care-home residents count on their own.
    young_dependant = np.isin(p.pos, [P03, P13, P05]) & (age < 25)
    head = np.isin(p.pos, [P01, P02, P21, P22])
    core = head | young_dependant
    in_test_group = core | (p.pos == P12)
    groups = hh.count + count
    group = np.where(in_test_group, p.hh, hh.count + np.arange(count))
    holder = head & (auto_start >= 0)
    never = np.iinfo(np.int64).max
    group_holder_start = np.full(groups, never, dtype=np.int64)
    np.minimum.at(group_holder_start, group[holder], auto_start[holder])
    inherited = core & (group_holder_start[group] != never)
    vt_start = np.where(
        auto_start >= 0, auto_start, np.where(inherited, group_holder_start[group], -1)
    )
    del group_holder_start, inherited, holder, auto_start
    automatic = vt_start >= 0

    # Gross taxable income of the last assessed year: the taxable total plus the professional
    # costs deducted from wages (lump sum 30%, capped).
    latest = np.where(assessed[1], income[1], np.where(assessed[0], income[0], 0))
    costs = np.where(
        w.employed | w.student_job,
        np.minimum(0.3 * professional[1], PROFESSIONAL_COSTS_CAP_CENTS),
        0,
    )
    gross = latest + np.round(costs).astype(np.int64)
    del latest, costs
    group_income = np.bincount(group, weights=gross, minlength=groups)
    group_size = np.bincount(group, minlength=groups)
    group_auto = np.bincount(group, weights=automatic.astype(np.float64), minlength=groups) > 0
    ceiling = VT_CEILING_BASE_CENTS + VT_CEILING_EXTRA_CENTS * np.maximum(group_size - 1, 0)
    grant = (group_income <= ceiling) & ~group_auto & (rng.random(groups) < VT_TAKE_UP)
    del group_income, group_size, group_auto, ceiling
    group_start = _uniform_days(
        rng, np.full(groups, _day(date(2017, 1, 1))), np.full(groups, ref_day)
    )
    on_request = ~automatic & grant[group]
    return np.where(on_request, np.maximum(group_start[group], p.birth), vt_start)


def _periods(
    p: Persons, w: _Work, d: _Disability, vt_start: Array, rng: np.random.Generator, ref_day: int
) -> Periods:
    """All status periods (truth), sorted by person, status and start."""
    count = p.count
    people: list[Array] = []
    statuses: list[Array] = []
    starts: list[Array] = []
    ends: list[Array] = []

    def add(mask: Array, status: int, start: Array, end: Array | None) -> None:
        index = np.flatnonzero(mask)
        people.append(index)
        statuses.append(np.full(index.shape[0], status, dtype=np.int8))
        starts.append(start[index].astype(np.int32))
        ends.append(
            np.full(index.shape[0], NO_END, np.int32)
            if end is None
            else end[index].astype(np.int32)
        )

    vt_now = vt_start >= 0
    add(vt_now, BIM, vt_start, None)
    # A past VT period, ended, for some who no longer have it.
    past_vt = ~vt_now & (rng.random(count) < 0.03)
    past_start = _uniform_days(
        rng, np.maximum(p.birth, _day(date(2015, 1, 1))), np.full(count, _day(date(2023, 6, 30)))
    )
    past_end = _uniform_days(rng, past_start + 180, np.full(count, ref_day - 60))
    add(past_vt & (past_end <= ref_day - 60), BIM, past_start, past_end)  # ended: in the past
    del past_start, past_end

    add(w.leefloon_now, LIVING_WAGES, w.leefloon_start, None)
    leefloon_vt = w.leefloon_now & (w.leefloon_start <= ref_day - 91)
    add(leefloon_vt, PCSA_BIM, w.leefloon_start + 91, None)
    threshold = np.quantile(w.leefloon_score[w.working_age], 0.9) if w.working_age.any() else 0.0
    past_leefloon = (
        w.working_age
        & ~w.leefloon_now
        & (w.leefloon_score > threshold)
        & (rng.random(count) < 0.15)
    )
    past_ll_start = _uniform_days(
        rng, np.full(count, _day(date(2018, 1, 1))), np.full(count, _day(date(2024, 6, 30)))
    )
    past_ll_end = np.minimum(
        past_ll_start + 90 + np.floor(rng.random(count) * 810).astype(np.int64), ref_day - 30
    )
    add(past_leefloon, LIVING_WAGES, past_ll_start, past_ll_end)
    del past_ll_start, past_ll_end

    card_first = np.minimum(np.maximum(d.since, d.first_possible), ref_day)
    card_start = _uniform_days(rng, card_first, np.full(count, ref_day))
    expired = rng.random(count) > 0.9
    card_end = np.where(
        expired, _uniform_days(rng, card_start + 365, np.full(count, ref_day - 30)), NO_END
    )
    # an expired card expired in the past; one too recent to have expired is still valid
    card_end = np.where((card_end <= card_start) | (card_end > ref_day - 30), NO_END, card_end)
    add(d.parking_adult, PARKING_ADULT, card_start, card_end)
    add(d.parking_child, PARKING_CHILD, card_start, card_end)

    person = np.concatenate(people).astype(np.int32)
    status = np.concatenate(statuses)
    start = np.concatenate(starts)
    end = np.concatenate(ends)
    order = np.lexsort((start, status, person))
    person, status, start, end = person[order], status[order], start[order], end[order]
    lag = (start > ref_day - REGISTRY_LAG_DAYS) & (start <= ref_day)
    return Periods(person=person, status=status, start=start, end=end, lag=lag)


def build_economy(
    hh: Households, p: Persons, grey: Grey, seed: int, reference: date = REFERENCE_DATE
) -> Economy:
    """Draw incomes, leefloon, disability, parking cards, VT and OCMW data (ground truth) as
    they stand on the `reference` date."""
    rng = rng_for(seed, 4)
    count = p.count
    ref_day = _day(reference)
    w = _work(hh, p, rng, ref_day)
    income, professional = _incomes(p, w, rng)

    # Assessments: every adult files, except dependent students without a job; the 2024 income
    # is not yet assessed for a few. Newcomers and people with foreign income have none in the
    # registry (truth keeps their real income).
    files = w.adult & ~((p.role == CHILD) & (p.age < 25) & ~w.student_job)
    no_assessment = files & (grey.newcomer | grey.foreign_income)
    assessed_2024 = (files & (rng.random(count) >= LATE_ASSESSMENT_SHARE)) | no_assessment
    assessed = np.stack([files, assessed_2024])
    del assessed_2024

    d = _disability(p, w, rng, ref_day)
    vt_start = _increased_allowance(hh, p, w, d, income, professional, assessed, rng, ref_day)
    periods = _periods(p, w, d, vt_start, rng, ref_day)
    del vt_start

    # OCMW (local data): debt help and budget guidance go together and with leefloon.
    adult_in_city = w.adult & ~w.in_care
    debt_help = _quantile_mask(
        p.latent + 0.7 * rng.standard_normal(count) + np.where(w.leefloon_now, 0.5, 0.0),
        adult_in_city,
        DEBT_HELP_SHARE,
    )
    budget_guidance = _quantile_mask(
        p.latent + 0.7 * rng.standard_normal(count) + np.where(debt_help, 0.8, 0.0),
        adult_in_city,
        BUDGET_GUIDANCE_SHARE,
    )
    former_client = adult_in_city & (rng.random(count) > 0.994)
    ocmw_client = w.leefloon_now | debt_help | budget_guidance | former_client

    disability_person = np.flatnonzero(d.recognised | d.refused)
    return Economy(
        income=income,
        professional=professional,
        assessed=assessed,
        no_assessment=no_assessment,
        leefloon_now=w.leefloon_now,
        periods=periods,
        disability_person=disability_person,
        disability_recognised=d.recognised[disability_person],
        disability_since=d.since[disability_person],
        disability_points=d.points[disability_person],
        debt_help=debt_help,
        budget_guidance=budget_guidance,
        ocmw_client=ocmw_client,
    )


def leefloon_category(hh: Households, p: Persons) -> Array:
    """Leefloon category by actual living situation: 1 cohabiting, 2 single, 3 with family."""
    adults_here = np.bincount(p.hh, weights=p.age >= 18, minlength=hh.count)
    minors_here = np.bincount(p.hh, weights=p.age < 18, minlength=hh.count)
    head = (p.role == REF) | (p.role == PARTNER)
    return np.where(
        head & (minors_here[p.hh] > 0), 3, np.where(adults_here[p.hh] > 1, 1, 2)
    ).astype(np.int64)
