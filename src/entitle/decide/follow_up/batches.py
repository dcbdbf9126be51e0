"""Each week's batch: the week's own run in the store, held, released, due.

Each week `entitle watch run` stores, per campaign, the week as a run of its own
(`entitle.store.weeks`): the week's decisions that may send something (new, changed, ended,
unknown, undetermined), the letters it sends (under this run, never the standing run's) and the
batch's record — its changes, the letters planned, every hold and release. Its status:
`baseline` (the first week: every subject decided, compared with nothing; sends nothing, the
approved run did), `empty` (no change), `ready` (a standing approval covers the week), `held`
(a manager held it, or the standing approval was withdrawn: decided and recorded, nothing sent
until released), `unapproved` (no standing approval: recorded; its letters come with the next
approved run), then `issuing` and `issued` (`entitle.decide.follow_up.issue`). A ready batch goes
out `hold_hours` after the week was decided (`due_batches`).

The run is stored `preparing` before the week is committed (its cursor moves) and takes its
status after (`settle`): a week killed in between is stored again in its place.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from entitle.decide.campaign.context import CampaignContext, audit_run
from entitle.decide.campaign.definition import Campaign
from entitle.decide.follow_up.folders import stored_week
from entitle.decide.follow_up.standing import (
    REASON_MAX,
    FollowUpError,
    StandingApproval,
    locked,
    standing_of,
    withdraw,
    withdrawn_note,
)
from entitle.store import weeks as store
from entitle.store.campaigns import CampaignStateError, RunView

__all__ = [
    "LETTER_CHANGES",
    "batch_of",
    "due_batches",
    "get_batch",
    "hold_batch",
    "list_batches",
    "prepare_week",
    "release_batch",
    "settle",
    "week_view",
    "withdraw_standing",
]

# changes that can send something this week: a letter (new, undetermined, unknown), a billing
# list line (new, changed) or a record
LETTER_CHANGES: Final = ("new", "changed", "ended", "unknown", "undetermined")
_COLUMNS: Final[dict[str, Any]] = {
    "outputs": {},
    "conditions": {},
    "facts_used": [],
    "facts_missing": [],
    "reasons": {},
    "valid_until": None,
    "at_least": {},
    "missing": [],
    "band": None,
    "previous_band": None,
}
_HIDDEN: Final = ("changed_on", "stored_status")  # kept in the summary, not shown


def _decision(row: dict[str, Any]) -> dict[str, Any]:
    """A week's decision row as the store keeps it (a subject gone from the target has only
    its outcome ``absent`` and its change)."""
    out = {name: row.get(name, default) for name, default in _COLUMNS.items()}
    out.update(subject_pseudonym=row["subject_pseudonym"], outcome=row["outcome"])
    out["change"] = row["change"]
    if row["outcome"] == "absent" and not out["reasons"]:
        out["reasons"] = {"target": "no longer in the target population"}
    for name in ("outputs", "conditions", "reasons", "at_least"):
        out[name] = dict(out[name] or {})
    for name in ("facts_used", "facts_missing", "missing"):
        out[name] = list(out[name] or [])
    return out


def _status(standing: StandingApproval | None, as_of: date, kept: int, baseline: bool) -> str:
    if baseline:
        return "baseline"
    if not kept:
        return "empty"
    if standing is not None and standing.covers(as_of):
        return "ready"
    if standing is not None and standing.withdrawn is not None and as_of <= standing.until:
        return "held"
    return "unapproved"


def prepare_week(
    ctx: CampaignContext,
    campaign: Campaign,
    week: int,
    as_of: date,
    rows: Sequence[dict[str, Any]],
    changed_on: dict[str, date],
    now: datetime,
    *,
    fingerprint: str,
    actor: str = "system",
    baseline: bool = False,
) -> dict[str, Any]:
    """Store the week's run (``preparing`` until `settle`): the decision rows that may send
    something and the batch's record. Letters are chosen when the batch is issued. The
    baseline stores no decision (they are the follow-up's state, and sent nothing)."""
    kept = sorted(
        (r for r in rows if r["change"] in LETTER_CHANGES), key=lambda r: r["subject_pseudonym"]
    )
    standing = standing_of(ctx, campaign.name) if campaign.spec.follow_up.weekly else None
    status = _status(standing, as_of, len(kept), baseline)
    history = []
    if status == "held" and standing is not None:
        history.append(
            {
                "status": "held",
                "actor": standing.withdrawn["actor"] if standing.withdrawn else actor,
                "time": now.isoformat(),
                "note": withdrawn_note(standing),
            }
        )
    summary = {
        "prepared": now.isoformat(),
        "changes": {c: sum(1 for r in kept if r["change"] == c) for c in LETTER_CHANGES},
        "standing_run": standing.run_id if standing is not None and status == "ready" else None,
        "planned": None,
        "letters": {},
        "notifications": 0,
        "billing": 0,
        "days": [],
        "history": history,
        "changed_on": {
            r["subject_pseudonym"]: changed_on[r["subject_pseudonym"]].isoformat()
            for r in kept
            if r["subject_pseudonym"] in changed_on
        },
    }
    with ctx.factory() as session:
        try:
            view = store.store_week_run(
                session,
                campaign=campaign.name,
                benefit=campaign.benefit.id,
                benefit_version=campaign.benefit.version,
                as_of=as_of,
                period=campaign.period(as_of),
                week=week,
                fingerprint=fingerprint,
                actor=actor,
                status=status,
                summary=summary,
                decisions=[] if baseline else [_decision(r) for r in kept],
                now=now,
            )
        except CampaignStateError as exc:
            raise FollowUpError(str(exc)) from None
        session.commit()
    return batch_of(view)


def settle(ctx: CampaignContext) -> None:
    """The weeks committed since their runs were stored take their status."""
    with ctx.factory() as session:
        if store.settle_weeks(session, stored_week(ctx)):
            session.commit()


def batch_of(view: RunView) -> dict[str, Any]:
    """A week's run as its batch: campaign, week, run, status, changes, letters, history, …"""
    summary = {k: v for k, v in (view.summary or {}).items() if k not in _HIDDEN}
    return {
        **summary,
        "campaign": view.campaign,
        "week": view.week,
        "run": view.id,
        "as_of": view.as_of.isoformat(),
        "status": view.status,
        "issued": view.issued.isoformat() if view.issued else None,
    }


def list_batches(ctx: CampaignContext, campaign: str) -> list[dict[str, Any]]:
    """The campaign's weekly batches, oldest first (the weeks committed)."""
    settle(ctx)
    with ctx.factory() as session:
        runs = store.week_runs(session, campaign)
    return [batch_of(v) for v in runs if v.status != "preparing"]


def week_view(ctx: CampaignContext, campaign: str, week: int) -> RunView:
    """The run of a campaign's committed week; `FollowUpError` if there is none."""
    settle(ctx)
    with ctx.factory() as session:
        view = store.week_run(session, campaign, week)
    if view is None or view.status == "preparing":
        raise FollowUpError(f"no batch of campaign {campaign} in week {week}")
    return view


def get_batch(ctx: CampaignContext, campaign: str, week: int) -> dict[str, Any]:
    """One week's batch; `FollowUpError` if there is none."""
    return batch_of(week_view(ctx, campaign, week))


def _entry(status: str, actor: str, moment: datetime, note: str) -> dict[str, str]:
    return {"status": status, "actor": actor, "time": moment.isoformat(), "note": note[:REASON_MAX]}


def _turn(
    ctx: CampaignContext,
    campaign: Campaign,
    week: int,
    *,
    actor: str,
    note: str,
    now: datetime | None,
    before: str,
    after: str,
) -> dict[str, Any]:
    moment = now or datetime.now(UTC)
    with locked(ctx, campaign.name):
        view = week_view(ctx, campaign.name, week)
        if after == "ready" and view.status == before:
            standing = standing_of(ctx, campaign.name)
            if standing is None or not standing.covers(view.as_of):
                raise FollowUpError(
                    f"no standing approval of {campaign.name} covers week {week}: approve the "
                    f"weekly follow-up again first"
                )
        summary = dict(view.summary or {})
        summary["history"] = [*summary.get("history", []), _entry(after, actor, moment, note)]
        with ctx.factory() as session:
            try:
                turned = store.turn_week(
                    session, view.id, before=(before,), status=after, summary=summary
                )
            except CampaignStateError as exc:
                raise FollowUpError(str(exc)) from None
            audit_run(
                session,
                campaign,
                view.id,
                actor=actor,
                outcome=f"follow_up_{after}",
                now=moment,
                week=week,
                note=note[:REASON_MAX],
            )
            session.commit()
    return batch_of(turned)


def hold_batch(
    ctx: CampaignContext,
    campaign: Campaign,
    week: int,
    *,
    actor: str,
    note: str = "",
    now: datetime | None = None,
) -> dict[str, Any]:
    """A manager holds a ready batch: it does not go out until released. Audited."""
    return _turn(ctx, campaign, week, actor=actor, note=note, now=now, before="ready", after="held")


def release_batch(
    ctx: CampaignContext,
    campaign: Campaign,
    week: int,
    *,
    actor: str,
    note: str = "",
    now: datetime | None = None,
) -> dict[str, Any]:
    """A manager releases a held batch: it goes out at the next issue. Refused while no
    standing approval covers the week (withdrawn or ended). Audited."""
    return _turn(ctx, campaign, week, actor=actor, note=note, now=now, before="held", after="ready")


def withdraw_standing(
    ctx: CampaignContext,
    campaign: Campaign,
    *,
    actor: str,
    reason: str,
    now: datetime | None = None,
) -> tuple[StandingApproval, list[int]]:
    """A campaign manager withdraws the campaign's standing approval, with a reason: every
    batch not yet sent (ready, or issuing after a kill) is held, and so is every week decided
    from now until a manager approves the follow-up again. Audited (`follow_up_withdrawn`, with
    the reason and the weeks held). Returns the withdrawn approval and the weeks held."""
    moment = now or datetime.now(UTC)
    settle(ctx)
    with locked(ctx, campaign.name):
        standing = withdraw(ctx, campaign, actor=actor, reason=reason, now=moment)
        note = withdrawn_note(standing)
        held = []
        with ctx.factory() as session:
            for view in store.week_runs(session, campaign.name):
                if view.status not in ("ready", "issuing"):
                    continue
                summary = dict(view.summary or {})
                summary["history"] = [
                    *summary.get("history", []),
                    _entry("held", actor, moment, note),
                ]
                store.turn_week(
                    session, view.id, before=(view.status,), status="held", summary=summary
                )
                held.append(int(view.week or 0))
            audit_run(
                session,
                campaign,
                standing.run_id,
                actor=actor,
                outcome="follow_up_withdrawn",
                now=moment,
                reason=(standing.withdrawn or {}).get("reason", ""),
                held=held,
            )
            session.commit()
    return standing, held


def due_batches(
    ctx: CampaignContext, campaigns: Sequence[Campaign], now: datetime
) -> list[tuple[Campaign, int]]:
    """(campaign, week) of the ready batches whose hold window has passed."""
    out = []
    for campaign in campaigns:
        window = timedelta(hours=campaign.spec.follow_up.hold_hours)
        for batch in list_batches(ctx, campaign.name):
            if batch["status"] not in ("ready", "issuing"):
                continue
            if datetime.fromisoformat(batch["prepared"]) + window <= now:
                out.append((campaign, int(batch["week"])))
    return out
