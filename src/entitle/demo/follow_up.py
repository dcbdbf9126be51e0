"""The demo's week of follow-up: after the first campaign runs, the city moves one week forward
and `entitle watch run` follows the week up, so the dashboard has a week to show.

`follow_up_week` runs in the demo's campaigns process (`entitle.demo.campaigns`), once the runs
are done: the follow-up's baseline, seeded from the campaigns' runs on the desk's date
(`follow_up.seed.seed_from_runs`: their decisions, nothing decided again; a first `watch run` when a
campaign has no such run), then the simulator's city one week forward (``POST /_admin/advance``),
then the week's `watch run`, as of the day the city moved to (a week after the desk's date). A
restart of the demo finds the week done and does neither again. It prints one line per step; the
last reads ``follow-up week N (DATE): N notifications, N persons changed; NAME new N, changed N,
ended N; …``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import httpx

from entitle.decide.campaign.context import CampaignContext
from entitle.decide.campaign.definition import Campaign
from entitle.decide.follow_up.run import WeekSummary, list_weeks, run_week
from entitle.decide.follow_up.seed import seed_from_runs
from entitle.store import campaigns as store

__all__ = ["follow_up_week"]

ADVANCE_TIMEOUT = (
    600.0  # a Ghent-sized city moves a week in well under a minute; this bounds a hang
)


def follow_up_week(
    ctx: CampaignContext, campaigns: Sequence[Campaign], city: Path, as_of: date
) -> WeekSummary | None:
    """Follow `campaigns` up for one week of the city in `city` (its ``meta.json`` says how many
    weeks it moved), deciding as of `as_of`; None when that week was followed up before."""
    if not campaigns:
        return None
    weeks = list_weeks(ctx)
    if not weeks:
        runs = _runs_of(ctx, campaigns, as_of)
        if len(runs) == len(campaigns):
            baseline = seed_from_runs(ctx, campaigns, runs, as_of, actor="demo")
            how = "from runs " + ", ".join(f"#{r}" for r in runs.values())
        else:
            baseline = run_week(ctx, campaigns, as_of, actor="demo")
            how = "decided"
        decided = ", ".join(f"{n} {c['decided']:,}" for n, c in baseline.campaigns.items())
        print(f"follow-up baseline: {decided} subjects ({how})", flush=True)
    if len(weeks) > 1:
        print(f"follow-up week {weeks[-1]['week']} done before (not run again)", flush=True)
        return None
    if _weeks_moved(city) == 0:
        answer = httpx.post(
            f"{ctx.registry}/_admin/advance", json={"weeks": 1}, timeout=ADVANCE_TIMEOUT
        )
        answer.raise_for_status()
        moved = answer.json()["weeks"][0]
        print(
            f"city moved to {moved['reference_date']}: {sum(moved['events'].values())} changes, "
            f"{moved['notifications']} notifications",
            flush=True,
        )
    summary = run_week(ctx, campaigns, _reference_date(city), actor="demo")
    figures = "; ".join(
        f"{name} new {c['new']}, changed {c['changed']}, ended {c['ended']}"
        for name, c in summary.campaigns.items()
    )
    print(
        f"follow-up week {summary.week} ({summary.as_of}): {summary.notifications} "
        f"notifications, {summary.changed_persons} persons changed; {figures or 'nothing new'}",
        flush=True,
    )
    return summary


def _meta(city: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((city / "meta.json").read_text(encoding="utf-8"))
    return data


def _weeks_moved(city: Path) -> int:
    return int(str(_meta(city).get("week", 0)))


def _reference_date(city: Path) -> date:
    """The day the city stands on (after its move: a week after the desk's date)."""
    return date.fromisoformat(str(_meta(city)["reference_date"]))


def _runs_of(ctx: CampaignContext, campaigns: Sequence[Campaign], as_of: date) -> dict[str, int]:
    """Each campaign's latest run, when it is finished and decided as of `as_of`."""
    found = {}
    with ctx.factory() as session:
        for campaign in campaigns:
            last = store.list_runs(session, campaign.name, limit=1)
            if last and last[0].status != "running" and last[0].as_of == as_of:
                found[campaign.name] = last[0].id
    return found
