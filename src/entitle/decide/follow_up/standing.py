"""The standing approval of a campaign's weekly follow-up: granted, withdrawn, granted again.

A campaign with ``follow_up: {weekly: true}`` sends letters between full runs without a new
four-eyes review, within a *standing approval*: a campaign manager who approved a run approves
its weekly follow-up too, until a date (`grant_standing`). A campaign manager can withdraw it
before then, with a reason (`withdraw_standing`): the weeks still decide and record, but every
batch not yet sent is held, and so is every week decided after, until a manager approves the
follow-up again (a new grant) and releases the held weeks. Recorded in the watch folder's
``standing/<campaign>.json`` (every grant and withdrawal kept in ``<campaign>.log``), audited.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from entitle.decide.atomic import write_atomic
from entitle.decide.campaign.context import CampaignContext, audit_run
from entitle.decide.campaign.definition import Campaign
from entitle.decide.follow_up.folders import watch_dir
from entitle.store import campaigns as store
from entitle.store import freetext
from entitle.store.campaigns import CampaignStateError

__all__ = [
    "REASON_MAX",
    "FollowUpError",
    "StandingApproval",
    "grant_standing",
    "locked",
    "scope_of",
    "standing_of",
    "withdraw",
    "withdrawn_note",
]

REASON_MAX = 300


class FollowUpError(CampaignStateError):
    """The follow-up cannot do this (no standing approval, a held batch, no such week)."""


@dataclass(frozen=True)
class StandingApproval:
    """A manager's approval of a campaign's weekly follow-up: under run `run_id`'s approval,
    for the weeks decided on or before `until`; `scope` says what the weeks may send;
    `withdrawn` (who, when, why) once a manager withdrew it."""

    campaign: str
    run_id: int
    actor: str
    granted: str  # ISO moment
    until: date
    scope: dict[str, str]
    withdrawn: dict[str, str] | None = None

    def covers(self, as_of: date) -> bool:
        return self.withdrawn is None and as_of <= self.until

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "until": self.until.isoformat()}


def _standing_path(ctx: CampaignContext, campaign: str) -> Path:
    return watch_dir(ctx) / "standing" / f"{campaign}.json"


@contextmanager
def locked(ctx: CampaignContext, campaign: str) -> Iterator[None]:
    """One change at a time to a campaign's follow-up (a hold never crosses an issue, a
    withdrawal never crosses either)."""
    path = watch_dir(ctx) / "standing" / f"{campaign}.batches.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def scope_of(campaign: Campaign) -> dict[str, str]:
    """What a week may send, per change (the campaign's policy), in words for the record."""
    policy = campaign.spec.follow_up
    letters = campaign.spec.outputs.letters
    scope = {
        "new": "letter" if letters else "record",
        "undetermined": "invitation" if letters and letters.invitation else "record",
        "changed": policy.changed,
        "ended": policy.ended,
    }
    if campaign.spec.outputs.billing_lists:
        scope["billing"] = "billing_list"
    return scope


def standing_of(ctx: CampaignContext, campaign: str) -> StandingApproval | None:
    """The campaign's standing approval (the latest granted, withdrawn or not), if any."""
    path = _standing_path(ctx, campaign)
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return StandingApproval(**{**data, "until": date.fromisoformat(data["until"])})


def _record(ctx: CampaignContext, standing: StandingApproval) -> None:
    path = _standing_path(ctx, standing.campaign)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.with_suffix(".log").open("a", encoding="utf-8") as log:  # every change, kept
        log.write(json.dumps(standing.to_json(), sort_keys=True) + "\n")
    write_atomic(path, json.dumps(standing.to_json(), sort_keys=True, indent=1).encode())


def grant_standing(
    ctx: CampaignContext,
    campaign: Campaign,
    run_id: int,
    *,
    actor: str,
    until: date,
    now: datetime | None = None,
) -> StandingApproval:
    """`actor`, who approved run `run_id` (approved or issued), approves the campaign's weekly
    follow-up until `until`: each week's letters then go out without a new review. Replaces a
    withdrawn approval (the weeks held meanwhile stay held until released). Audited."""
    if not campaign.spec.follow_up.weekly:
        raise FollowUpError(f"campaign {campaign.name} has no weekly follow-up (follow_up.weekly)")
    moment = now or datetime.now(UTC)
    with ctx.factory() as session:
        run = store.get_run(session, run_id)
        if run is None or run.campaign != campaign.name or run.week is not None:
            raise FollowUpError(f"no run {run_id} of campaign {campaign.name}")
        if run.status not in ("approved", "issued"):
            raise FollowUpError(f"run {run_id} is {run.status}: approve the run first")
        if actor not in run.approvals:
            raise FollowUpError(
                f"{actor} did not approve run {run_id}: the standing approval comes from one "
                f"who approved the run"
            )
        if until <= run.as_of:
            raise FollowUpError(f"the follow-up must end after the run's date {run.as_of}")
        standing = StandingApproval(
            campaign.name, run_id, actor, moment.isoformat(), until, scope_of(campaign)
        )
        with locked(ctx, campaign.name):
            _record(ctx, standing)
        audit_run(
            session,
            campaign,
            run_id,
            actor=actor,
            outcome="follow_up_approved",
            now=moment,
            until=until.isoformat(),
            scope=standing.scope,
        )
        session.commit()
    return standing


def withdrawn_note(standing: StandingApproval) -> str:
    """The history note of a batch held because the standing approval was withdrawn."""
    reason = (standing.withdrawn or {}).get("reason", "")
    return f"standing approval withdrawn: {reason}"[:REASON_MAX]


def withdraw(
    ctx: CampaignContext,
    campaign: Campaign,
    *,
    actor: str,
    reason: str,
    now: datetime,
) -> StandingApproval:
    """Mark the campaign's standing approval withdrawn (the caller holds the batches and
    audits, under `locked`)."""
    standing = standing_of(ctx, campaign.name)
    if standing is None:
        raise FollowUpError(f"campaign {campaign.name} has no standing approval to withdraw")
    if standing.withdrawn is not None:
        raise FollowUpError(
            f"the standing approval of {campaign.name} was withdrawn already "
            f"({standing.withdrawn['time']}, {standing.withdrawn['actor']})"
        )
    try:
        text = freetext.clean(reason.strip(), REASON_MAX, required=True)
    except freetext.FreeTextError as exc:
        raise FollowUpError(f"withdrawing the standing approval needs a reason: {exc}") from None
    done = StandingApproval(
        **{
            **standing.__dict__,
            "withdrawn": {"actor": actor, "time": now.isoformat(), "reason": text},
        }
    )
    _record(ctx, done)
    return done
