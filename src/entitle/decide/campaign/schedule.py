"""The schedule: which campaigns are due, and running them (for cron or a systemd timer).

A moment is used up only by a run that started and finished for it: a refused attempt (preflight,
gates, lock) creates no run, and a paused run stays `running`, so the moment stays due and the
next `schedule` tries it again (resuming the paused run)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from entitle.decide.campaign.context import CampaignContext
from entitle.decide.campaign.definition import Campaign
from entitle.decide.campaign.outcome import RunOutcome, attempt
from entitle.decide.campaign.progress import RunProgress
from entitle.store import campaigns as store


@dataclass(frozen=True)
class Due:
    campaign: Campaign
    slot: str  # the schedule moment, ISO (minutes)
    as_of: date
    resume: bool  # a run for this slot is unfinished


def due_runs(ctx: CampaignContext, campaigns: Sequence[Campaign], now: datetime) -> list[Due]:
    """The campaigns whose latest scheduled moment (at or before `now`) has no run yet, or
    whose run for it is unfinished. Missed moments before the latest are not caught up."""
    out = []
    with ctx.factory() as session:
        for campaign in campaigns:
            slot = campaign.spec.schedule.last_slot(now.replace(tzinfo=None))
            if slot is None:
                continue
            key = slot.isoformat(timespec="minutes")
            runs = store.runs_scheduled_for(session, campaign.name, key)
            running = store.running_run(session, campaign.name)
            if not runs:
                if running is None:
                    out.append(Due(campaign, key, slot.date(), False))
            elif any(r.status == "running" for r in runs):
                out.append(Due(campaign, key, slot.date(), True))
    return out


def run_due(
    ctx: CampaignContext,
    campaigns: Sequence[Campaign],
    now: datetime,
    *,
    actor: str = "scheduler",
    workers: int = 1,
    progress: Callable[[Campaign], RunProgress | None] | None = None,
) -> list[RunOutcome]:
    """Run every due campaign (for cron or a systemd timer), each schedule moment until it
    succeeds once: what came of each (recorded for monitoring)."""
    outcomes = []
    for due in due_runs(ctx, campaigns, now):
        outcomes.append(
            attempt(
                ctx,
                due.campaign,
                due.as_of,
                actor=actor,
                scheduled_for=due.slot,
                workers=workers,
                progress=progress(due.campaign) if progress else None,
            )
        )
    return outcomes
