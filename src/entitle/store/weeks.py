"""A weekly follow-up's weeks, each a campaign run of its own (`CampaignRun.week`, v0009).

One row per campaign and week: the week's decisions (`campaign_decisions`), the letters it sent
(`campaign_letters`, under this row) and, in its summary, the batch's record (changes, the letters
planned, holds and releases). Its `status` is the batch's:

- ``preparing``: stored while the week is decided, before the week is committed (the follow-up's
  cursor moves); a week killed before that is stored again in its place (`store_week_run`), one
  committed after it becomes its `stored_status` (`settle_weeks`);
- ``baseline`` (the first week: compared with nothing), ``empty`` (no change), ``unapproved`` (no
  standing approval covered it), ``ready``, ``held``, ``issuing`` (its letters fixed), ``issued``.

Full runs never see these rows: `campaigns.list_runs` and `campaigns.last_run` leave them out.
Like the other store modules these functions flush and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from entitle.store.campaigns import (
    CampaignStateError,
    RunView,
    add_decisions,
    run_view,
)
from entitle.store.models import CampaignDecision, CampaignLetter, CampaignRun, utc

__all__ = [
    "WEEK_STATUSES",
    "settle_weeks",
    "store_week_run",
    "turn_week",
    "week_run",
    "week_runs",
]

WEEK_STATUSES = (
    "preparing",
    "baseline",
    "empty",
    "unapproved",
    "ready",
    "held",
    "issuing",
    "issued",
)


def week_run(session: Session, campaign: str, week: int) -> RunView | None:
    """The run of one campaign's week, if stored."""
    run = session.scalars(
        select(CampaignRun).where(CampaignRun.campaign == campaign, CampaignRun.week == week)
    ).first()
    return run_view(run) if run else None


def week_runs(session: Session, campaign: str | None = None) -> list[RunView]:
    """The weeks' runs (of one campaign, or all), oldest week first."""
    query = select(CampaignRun).where(CampaignRun.week.is_not(None))
    if campaign is not None:
        query = query.where(CampaignRun.campaign == campaign)
    return [run_view(r) for r in session.scalars(query.order_by(CampaignRun.week, CampaignRun.id))]


def store_week_run(
    session: Session,
    *,
    campaign: str,
    benefit: str,
    benefit_version: str,
    as_of: date,
    period: str,
    week: int,
    fingerprint: str,
    actor: str,
    status: str,
    summary: dict[str, Any],
    decisions: Sequence[dict[str, Any]],
    now: datetime | None = None,
) -> RunView:
    """Store a week's run as ``preparing`` (to become `status` once the week is committed), with
    its decision rows. A ``preparing`` run of the same week (an attempt killed before its commit)
    is replaced; any other run of that week is refused (`CampaignStateError`)."""
    if status not in WEEK_STATUSES or status == "preparing":
        raise ValueError(f"a week's status is one of {WEEK_STATUSES[1:]}")
    old = session.scalars(
        select(CampaignRun)
        .where(CampaignRun.campaign == campaign, CampaignRun.week == week)
        .with_for_update()
    ).first()
    if old is not None:
        letters = session.scalar(
            select(func.count()).select_from(CampaignLetter).where(CampaignLetter.run_id == old.id)
        )
        if old.status != "preparing" or letters:
            raise CampaignStateError(
                f"week {week} of {campaign} is stored already (run {old.id}, {old.status})"
            )
        session.execute(delete(CampaignDecision).where(CampaignDecision.run_id == old.id))
        session.execute(delete(CampaignRun).where(CampaignRun.id == old.id))
    moment = utc(now)
    run = CampaignRun(
        campaign=campaign,
        benefit=benefit,
        benefit_version=benefit_version,
        as_of=as_of,
        period=period,
        status="preparing",
        active_key=None,
        scheduled_for=None,
        previous_run_id=None,
        chunk_size=0,
        chunks_total=0,
        subjects_total=len(decisions),
        fingerprint=fingerprint,
        approvals_required=1,
        summary={**summary, "stored_status": status},
        outputs=None,
        started_by=actor,
        started=moment,
        finished=moment,
        decided=moment,
        week=week,
    )
    session.add(run)
    session.flush()
    add_decisions(session, run.id, decisions, chunk_no=0)
    session.flush()
    return run_view(run)


def settle_weeks(session: Session, through: int) -> int:
    """The ``preparing`` runs of weeks up to `through` (committed weeks) take their stored
    status; returns how many."""
    runs = list(
        session.scalars(
            select(CampaignRun)
            .where(CampaignRun.status == "preparing", CampaignRun.week <= through)
            .with_for_update()
        )
    )
    for run in runs:
        run.status = str((run.summary or {}).get("stored_status") or "empty")
    session.flush()
    return len(runs)


def turn_week(
    session: Session,
    run_id: int,
    *,
    before: Sequence[str],
    status: str,
    summary: dict[str, Any] | None = None,
    outputs: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> RunView:
    """A week's run from one of the statuses `before` to `status` (locked: one change at a
    time), with its new summary and outputs; ``issued`` records the moment."""
    if status not in WEEK_STATUSES:
        raise ValueError(f"a week's status is one of {WEEK_STATUSES}")
    run = session.scalars(
        select(CampaignRun).where(CampaignRun.id == run_id).with_for_update()
    ).first()
    if run is None or run.week is None:
        raise CampaignStateError(f"no follow-up week run {run_id}")
    if run.status not in before:
        raise CampaignStateError(
            f"the batch of week {run.week} is {run.status}: only a "
            f"{' or '.join(before)} batch can be {status}"
        )
    run.status = status
    if summary is not None:
        run.summary = summary
    if outputs is not None:
        run.outputs = outputs
    if status == "issued" and run.issued is None:
        run.issued = utc(now)
    session.flush()
    return run_view(run)
