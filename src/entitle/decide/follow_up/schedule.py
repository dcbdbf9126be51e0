"""The weekly follow-up in the schedule: `entitle campaign schedule` runs `watch run`.

The campaigns with ``follow_up: {weekly: true}`` share one follow-up (one notification cursor):
it is due when the latest moment of any of their `follow_up.schedule` (cron) is later than the
moment the last week was run for (kept in the watch state). A week that failed (registry or
notification service down) leaves the moment due: the next `schedule` tries it again. Each
`schedule` then sends the ready batches whose hold window has passed (`batches.due_batches`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from croniter import croniter  # type: ignore[import-untyped]

from entitle.decide.campaign.context import CampaignContext
from entitle.decide.campaign.definition import Campaign
from entitle.decide.follow_up.batches import due_batches
from entitle.decide.follow_up.folders import watch_dir
from entitle.decide.follow_up.issue import issue_batch
from entitle.decide.follow_up.run import WeekSummary, run_week

__all__ = ["FollowUpDue", "FollowUpRound", "follow_up_due", "run_follow_up"]


@dataclass(frozen=True)
class FollowUpDue:
    campaigns: list[Campaign]  # the campaigns with weekly follow-up
    slot: str | None  # the schedule moment to run `watch run` for (None: not due)


@dataclass
class FollowUpRound:
    """What one `schedule` did for the follow-up: the week (if one was due) and the batches sent."""

    slot: str | None = None
    week: WeekSummary | None = None
    issued: list[dict[str, Any]] = field(default_factory=list)


def _last_slot(ctx: CampaignContext) -> str | None:
    path = watch_dir(ctx) / "state.json"
    if not path.is_file():
        return None
    slot = json.loads(path.read_text(encoding="utf-8")).get("slot")
    return str(slot) if slot else None


def follow_up_due(
    ctx: CampaignContext, campaigns: Sequence[Campaign], now: datetime
) -> FollowUpDue:
    """The weekly campaigns and the schedule moment a `watch run` is due for, if any."""
    weekly = [c for c in campaigns if c.spec.follow_up.weekly]
    if not weekly:
        return FollowUpDue([], None)
    moment = now.replace(tzinfo=None) + timedelta(seconds=1)
    latest = max(croniter(c.spec.follow_up.schedule, moment).get_prev(datetime) for c in weekly)
    slot = latest.isoformat(timespec="minutes")
    done = _last_slot(ctx)
    return FollowUpDue(weekly, None if done is not None and done >= slot else slot)


def run_follow_up(
    ctx: CampaignContext,
    campaigns: Sequence[Campaign],
    now: datetime,
    *,
    actor: str = "scheduler",
) -> FollowUpRound:
    """Run the week when due (decided as of the schedule moment's day), then send the ready
    batches whose hold window has passed. Errors of `run_week` propagate (the moment stays
    due); batches already due are sent first, so a failing week never holds back the last."""
    due = follow_up_due(ctx, campaigns, now)
    done = FollowUpRound(due.slot)
    if not due.campaigns:
        return done
    aware = now.astimezone(UTC)  # a naive moment is the machine's local time, as cron's
    for campaign, week in due_batches(ctx, due.campaigns, aware):
        done.issued.append(issue_batch(ctx, campaign, week, actor=actor, now=aware))
    if due.slot is not None:
        as_of = datetime.fromisoformat(due.slot).date()
        done.week = run_week(ctx, due.campaigns, as_of, actor=actor, now=aware, slot=due.slot)
    return done
