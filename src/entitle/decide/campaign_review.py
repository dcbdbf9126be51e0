"""Review before sending: a campaign manager approves a draft (four eyes: two) or rejects it.

A draft is compared with the campaign's latest approved run when it was made; once another run
is approved, that comparison (new, ended, letters and notifications due) is out of date, and
the draft can only be rejected.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from entitle.decide.campaign_context import audit_run
from entitle.decide.campaign_def import Campaign
from entitle.store import campaigns as store
from entitle.store.campaigns import CampaignStateError, RunView


def _verdict(
    session: Session,
    campaign: Campaign,
    run_id: int,
    *,
    actor: str,
    verdict: Literal["approve", "reject"],
    note: str,
    now: datetime | None,
) -> RunView:
    run = store.get_run(session, run_id)
    if run is None:
        raise CampaignStateError(f"no campaign run {run_id}")
    if run.campaign != campaign.name:
        raise CampaignStateError(f"run {run_id} belongs to campaign {run.campaign}")
    if verdict == "approve" and run.status == "draft":
        latest = store.last_run(session, campaign.name)
        if latest is not None and latest.id not in (run.previous_run_id, run_id):
            raise CampaignStateError(
                f"run {latest.id} was approved after run {run_id} was compared with "
                f"{f'run {run.previous_run_id}' if run.previous_run_id else 'no earlier run'}: "
                f"its new and ended subjects and letters due are out of date; run the campaign "
                f"again (reject run {run_id})"
            )
    view = store.record_verdict(
        session,
        run_id,
        actor=actor,
        verdict=verdict,
        note=note,
        now=now,
    )
    audit_run(
        session,
        campaign,
        run_id,
        actor=actor,
        outcome=f"campaign_{verdict}",
        now=now,
        status=view.status,
        approvals=len(view.approvals),
        approvals_required=view.approvals_required,
        note=note[:300],
    )
    return view


def approve_run(
    session: Session,
    campaign: Campaign,
    run_id: int,
    *,
    actor: str,
    note: str = "",
    now: datetime | None = None,
) -> RunView:
    """A campaign manager approves a draft (flushed and audited; the caller commits). With four
    eyes the run is approved at the second approval, by someone else."""
    return _verdict(session, campaign, run_id, actor=actor, verdict="approve", note=note, now=now)


def reject_run(
    session: Session,
    campaign: Campaign,
    run_id: int,
    *,
    actor: str,
    note: str = "",
    now: datetime | None = None,
) -> RunView:
    """A campaign manager rejects a draft: it will never issue anything."""
    return _verdict(session, campaign, run_id, actor=actor, verdict="reject", note=note, now=now)
