"""Weekly follow-up, the deciding step: decide the week's subjects again and compare.

`decide_week` decides only the subjects `week_subjects` chose, through the same fact source as a
full run (the gateway, staged: only undecided subjects reach the next stage), and compares each
with its last decision: ``new`` (now eligible), ``changed`` (another amount or tariff),
``ended`` (no longer eligible, or gone from the target), ``unknown`` (was eligible, now
undetermined), ``continued`` or ``none``. A subject left undetermined only because a registry
failed keeps its last decision and is *pending*: decided again next week. The state it returns
is what a full run on this week's registry view would hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from entitle.decide.campaign.definition import Campaign
from entitle.decide.campaign.evaluate import decide_chunk_rows, unknown_rows, with_change
from entitle.decide.campaign.reasons import PENDING
from entitle.decide.campaign.sources import FactSource, Target
from entitle.decide.follow_up.subjects import FollowUpState, week_subjects
from entitle.sources.access import Pseudonymiser

__all__ = ["WeekResult", "decide_week", "full_state"]


@dataclass(frozen=True)
class WeekResult:
    """One campaign's week: the decision rows of the subjects decided again (with ``change``),
    the pseudonyms that left the target, fetch statistics, and the state after the week."""

    rows: list[dict[str, Any]]
    gone: list[dict[str, Any]]
    stats: dict[str, Any]
    state: FollowUpState

    def count(self, change: str) -> int:
        return sum(1 for r in [*self.rows, *self.gone] if r["change"] == change)


def _decide(
    campaign: Campaign,
    as_of: date,
    target: Target,
    subjects: list[str],
    source: FactSource,
    pseudonymise: Pseudonymiser,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    known = [s for s in subjects if s not in set(target.unknown)]
    unknown = [s for s in subjects if s in set(target.unknown)]
    rows = unknown_rows(campaign, unknown, pseudonymise)
    stats: dict[str, Any] = {"fetched": {}, "questions": 0}
    if known:
        households = target.subjects.filter(pl.col("subject_id").is_in(known))[
            "household_id"
        ].unique()
        persons = target.persons.filter(pl.col("household_id").is_in(households.to_list()))
        homes = target.households.filter(pl.col("household_id").is_in(households.to_list()))
        decided, stats = decide_chunk_rows(
            campaign, as_of, known, persons, homes, source, pseudonymise
        )
        rows = decided + rows
    return rows, stats


def _transient(row: dict[str, Any]) -> bool:
    """Undetermined only through a failure of ours (a registry down: outcome ``pending``):
    decide again next week."""
    return bool(row["outcome"] == PENDING)


def decide_week(
    campaign: Campaign,
    as_of: date,
    target: Target,
    state: FollowUpState,
    changed: set[str],
    source: FactSource,
    pseudonymise: Pseudonymiser,
) -> WeekResult:
    """Decide again the subjects this week's changed persons can affect; compare; new state."""
    week, reach = week_subjects(target, state, changed, pseudonymise)
    decided, stats = _decide(campaign, as_of, target, week.subjects, source, pseudonymise)
    rows = [r for r in decided if not _transient(r)]
    pending = {r["subject_pseudonym"] for r in decided if _transient(r)}
    previous = {p: (d["outcome"], d.get("band")) for p, d in state.decisions.items()}
    rows = with_change(rows, previous)
    gone = with_change(
        [{"subject_pseudonym": p, "outcome": "absent", "band": None} for p in sorted(week.gone)],
        previous,
    )
    decisions = {p: d for p, d in state.decisions.items() if p not in week.gone}
    decisions.update({row["subject_pseudonym"]: row for row in rows})
    stats = {
        **stats,
        "subjects": len(week.subjects),
        "changed_persons": week.changed_persons,
        "pending": len(pending),
    }
    return WeekResult(rows, gone, stats, FollowUpState(decisions, reach, pending))


def full_state(
    campaign: Campaign,
    as_of: date,
    target: Target,
    source: FactSource,
    pseudonymise: Pseudonymiser,
) -> WeekResult:
    """Every subject of the target decided (a full run's decisions), as a follow-up state."""
    return decide_week(campaign, as_of, target, FollowUpState(), set(), source, pseudonymise)
