"""The demo's week of follow-up: after the first campaign runs, the city moves one week forward
and `entitle watch run` follows the week up, so the dashboard has a week to show.

`follow_up_week` runs in the demo's campaigns process (`entitle.demo_campaigns`), once the runs
are done: the follow-up's baseline (the first `watch run`: every subject decided once), then the
simulator's city one week forward (``POST /_admin/advance``), then the week's `watch run`. A
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

from entitle.decide.campaign_context import CampaignContext
from entitle.decide.campaign_def import Campaign
from entitle.decide.watch_run import WeekSummary, list_weeks, run_week

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
        baseline = run_week(ctx, campaigns, as_of, actor="demo")
        decided = ", ".join(f"{n} {c['decided']:,}" for n, c in baseline.campaigns.items())
        print(f"follow-up baseline: {decided} subjects decided", flush=True)
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
    summary = run_week(ctx, campaigns, as_of, actor="demo")
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


def _weeks_moved(city: Path) -> int:
    meta = json.loads((city / "meta.json").read_text(encoding="utf-8"))
    return int(meta.get("week", 0))
