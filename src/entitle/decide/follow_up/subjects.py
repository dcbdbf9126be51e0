"""Weekly follow-up, the mapping step: which subjects can a week's changes affect?

A notification says only "this person, this kind of data, changed". A change to a person can
change the decision of every subject whose decision reads that person: the person (a person
campaign), the household they belong to (a household campaign), every pupil of their household (a
school-tariff campaign, when a parent changes). Households change too: a person who moved is
followed in the household they left and the one they joined. So the week's subjects are

- the subjects the changed persons reach now (the register extract of this week), and
- the subjects they reached at the last decision (`FollowUpState.reach`, kept pseudonymised), and
- the subjects that entered or left the target (a birthday, a move into or out of the city).

Everything kept between weeks is pseudonymised: the state never holds an INSZ.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from entitle.decide.campaign.sources import Target

__all__ = [
    "FollowUpState",
    "Week",
    "changed_in_dataset",
    "reach_of",
    "week_subjects",
]


@dataclass
class FollowUpState:
    """A campaign's standing decisions and reach, pseudonymised.

    ``decisions``: subject pseudonym → its last decision row (outcome, band, …);
    ``reach``: person pseudonym → the subject pseudonyms whose decision reads that person;
    ``pending``: subject pseudonyms to decide again next week (a registry failed this week)."""

    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    reach: dict[str, set[str]] = field(default_factory=dict)
    pending: set[str] = field(default_factory=set)  # not decided last week (a registry was down)


@dataclass(frozen=True)
class Week:
    """The subjects to decide again this week (ids) and those that left the target (pseudonyms)."""

    subjects: list[str]
    gone: set[str]
    changed_persons: int


def reach_of(kind: str, subjects: Iterable[str], persons: pl.DataFrame) -> dict[str, set[str]]:
    """Person id → the subject ids whose decision may read that person: the person's household
    (household subjects), or every subject of the person's household (person and pupil subjects)."""
    household_of = dict(
        zip(persons["person_id"].to_list(), persons["household_id"].to_list(), strict=True)
    )
    out: dict[str, set[str]] = defaultdict(set)
    if kind == "household":
        wanted = set(subjects)
        for person, household in household_of.items():
            if household in wanted:
                out[person].add(household)
        return dict(out)
    by_household: dict[str, set[str]] = defaultdict(set)
    for subject in subjects:
        if subject in household_of:
            by_household[household_of[subject]].add(subject)
    for person, household in household_of.items():
        members = by_household.get(household)
        if members:
            out[person] |= members
    return dict(out)


def changed_in_dataset(before: pl.DataFrame | None, after: pl.DataFrame) -> set[str]:
    """Persons whose rows in one of the city's own datasets differ between two copies (added,
    removed or changed): the city's data has no notification service, its copies are compared."""
    if before is None:
        return set(after["person_id"].cast(pl.String).to_list())
    columns = sorted(set(before.columns) & set(after.columns))
    old = before.select(columns).with_columns(pl.col("person_id").cast(pl.String))
    new = after.select(columns).with_columns(pl.col("person_id").cast(pl.String))
    differ = pl.concat(
        [old.join(new, on=columns, how="anti"), new.join(old, on=columns, how="anti")]
    )
    return set(differ["person_id"].to_list())


def week_subjects(
    target: Target,
    state: FollowUpState,
    changed: set[str],
    pseudonymise: Callable[[str], str],
) -> tuple[Week, dict[str, set[str]]]:
    """This week's subjects to decide again, and the reach to keep (pseudonymised) after it."""
    subject_ids = target.subjects["subject_id"].to_list() + list(target.unknown)
    by_pseudonym = {pseudonymise(s): s for s in subject_ids}
    reach_now = reach_of(target.subject_kind, subject_ids, target.persons)
    chosen: set[str] = set()
    for person in changed:
        chosen |= reach_now.get(person, set())
    before: set[str] = set()
    for person in changed:
        before |= state.reach.get(pseudonymise(person), set())
    chosen |= {by_pseudonym[p] for p in before if p in by_pseudonym}
    before |= state.pending
    gone = {p for p in before if p not in by_pseudonym}
    # entered or left the target without a notification of their own (a birthday, a new school
    # year) or through another person's change
    chosen |= {s for p, s in by_pseudonym.items() if p not in state.decisions}
    gone |= {p for p in state.decisions if p not in by_pseudonym}
    kept = {
        pseudonymise(person): {pseudonymise(s) for s in subjects}
        for person, subjects in reach_now.items()
    }
    ordered = [s for s in subject_ids if s in chosen]
    return Week(ordered, gone, len(changed)), kept
