"""Review before sending: a campaign manager approves a draft (four eyes: two) or rejects it.

A draft is compared with the campaign's latest approved run when it was made; once another run
is approved, that comparison (new, ended, letters and notifications due) is out of date, and
the draft can only be rejected. A run whose decisions no longer hold on the day (the period of
its reference date has ended, `periods.expiry`) is refused too: its letters and billing lists
would be expired when they arrive (`refuse_expired`, also before issuing).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from sqlalchemy.orm import Session

from entitle.decide.campaign.context import audit_run
from entitle.decide.campaign.definition import Campaign
from entitle.rules.periods import Expiry, expiry
from entitle.store import campaigns as store
from entitle.store.campaigns import CampaignStateError, RunView


class RunExpiredError(CampaignStateError):
    """Approving or issuing a run whose decisions' validity has already ended."""

    def __init__(self, run: RunView, until: date, today: date) -> None:
        self.run_id, self.as_of, self.until, self.today = run.id, run.as_of, until, today
        super().__init__(
            f"run {run.id} (reference date {run.as_of.isoformat()}) decides for a period that "
            f"ended on {until.isoformat()}, before today ({today.isoformat()}): its letters and "
            "billing lists would be expired. Reject it and run the campaign again on a recent "
            "reference date."
        )


def run_validity(campaign: Campaign, run: RunView, today: date) -> tuple[date, Expiry | None]:
    """The last day the run's decisions hold (the end of its reference date's period), and
    whether on `today` that is past ("expired") or soon ("short")."""
    until = campaign.benefit.valid_until(run.as_of)
    return until, expiry(until, today)


def expired_until(campaign: Campaign, run: RunView, today: date) -> date | None:
    """The last day the run's decisions hold when that day is before `today`, else None."""
    until, found = run_validity(campaign, run, today)
    return until if found == "expired" else None


def due_count(campaign: Campaign, summary: dict[str, object]) -> int:
    """What approving the run sends: letters (coupons and invitations) for a campaign with
    letters, else pupils on the billing lists (the eligible); 0 for an empty run."""
    if campaign.spec.outputs.letters:
        due = summary.get("letters_due") or {}
        assert isinstance(due, dict)
        return int(due.get("coupon") or 0) + int(due.get("invitation") or 0)
    outcomes = summary.get("outcomes") or {}
    assert isinstance(outcomes, dict)
    return int(outcomes.get("eligible") or 0)


def refuse_expired(campaign: Campaign, run: RunView, today: date) -> None:
    """`RunExpiredError` when the run's decisions no longer hold on `today`."""
    until = expired_until(campaign, run, today)
    if until is not None:
        raise RunExpiredError(run, until, today)


def _verdict(
    session: Session,
    campaign: Campaign,
    run_id: int,
    *,
    actor: str,
    verdict: Literal["approve", "reject"],
    note: str,
    now: datetime | None,
    today: date | None,
) -> RunView:
    run = store.get_run(session, run_id)
    if run is None:
        raise CampaignStateError(f"no campaign run {run_id}")
    if run.campaign != campaign.name:
        raise CampaignStateError(f"run {run_id} belongs to campaign {run.campaign}")
    if verdict == "approve" and run.status == "draft":
        assert today is not None
        refuse_expired(campaign, run, today)
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
    today: date,
    note: str = "",
    now: datetime | None = None,
) -> RunView:
    """A campaign manager approves a draft on `today` (flushed and audited; the caller
    commits). With four eyes the run is approved at the second approval, by someone else. A run
    whose decisions no longer hold on `today` is refused (`RunExpiredError`)."""
    return _verdict(
        session,
        campaign,
        run_id,
        actor=actor,
        verdict="approve",
        note=note,
        now=now,
        today=today,
    )


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
    return _verdict(
        session, campaign, run_id, actor=actor, verdict="reject", note=note, now=now, today=None
    )
