"""Plausibility gates on a new run's target population, before any registry call.

- **Duplicate keys** in the register extract (a person or a household twice): the run cannot
  store one decision per subject. Refused; fix the extract (no confirmation helps).
- **Population change**: the target is larger or smaller than the last approved run's by more
  than `max_population_change` (default 2 %). A shrunken extract would mark households `ended`
  (and notify them); a grown one may be another municipality's. Stopped with the numbers; an
  operator who checked the extract confirms (`--confirm-population`), which is audited.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from entitle.decide.campaign.context import CampaignContext
from entitle.decide.campaign.definition import Campaign, CampaignError
from entitle.decide.campaign.sources import RegisterExtract, Target
from entitle.store import campaigns as store


class GateError(CampaignError):
    """The target population failed a plausibility gate; the run did not start."""

    def __init__(self, message: str, *, confirmable: bool) -> None:
        super().__init__(message)
        self.confirmable = confirmable


def duplicate_keys(extract: RegisterExtract) -> str | None:
    """What is duplicated in the register extract (counts only, never a key), or None."""
    problems = []
    for table, key in ((extract.persons, "person_id"), (extract.households, "household_id")):
        twice = table.filter(pl.col(key).is_duplicated())[key].n_unique()
        if twice:
            problems.append(f"{twice:,} {key} value(s) occur more than once")
    return "; ".join(problems) or None


def population_change(
    ctx: CampaignContext, campaign: Campaign, target: Target
) -> dict[str, Any] | None:
    """The change of the target size against the last approved run when it exceeds the
    setting: previous run, before, after, change (a share); None when within it."""
    with ctx.factory() as session:
        previous = store.last_run(session, campaign.name)
    if previous is None or previous.subjects_total == 0:
        return None
    before, now = previous.subjects_total, target.size
    change = (now - before) / before
    if abs(change) <= ctx.max_population_change:
        return None
    return {"previous_run": previous.id, "before": before, "after": now, "change": round(change, 4)}


def check_gates(
    ctx: CampaignContext,
    campaign: Campaign,
    extract: RegisterExtract,
    target: Target,
    *,
    confirm_population: bool = False,
) -> dict[str, Any] | None:
    """Raise `GateError` when a gate stops the run. Returns the population change the operator
    confirmed (to audit with the run), or None."""
    duplicated = duplicate_keys(extract)
    if duplicated:
        raise GateError(
            f"stopped before any registry call: the register extract {ctx.register} has "
            f"duplicate keys ({duplicated}); fix the extract and run again",
            confirmable=False,
        )
    change = population_change(ctx, campaign, target)
    if change is None or confirm_population:
        return change
    unit = "households" if campaign.benefit.subject == "household" else "persons"
    raise GateError(
        f"stopped before any registry call: the target has {change['after']:,} {unit}, "
        f"{change['change']:+.1%} against {change['before']:,} in approved run "
        f"{change['previous_run']} (more than ±{ctx.max_population_change:.0%}); check the "
        "register extract, then run again with --confirm-population to go ahead",
        confirmable=True,
    )
