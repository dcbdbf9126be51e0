"""The weekly follow-up's baseline taken from finished campaign runs (`seed_from_runs`).

The first `watch run` decides every subject once, as a full run does. When each campaign has just
run on the same date (the demo: the runs, then a week of follow-up), that is the same work twice:
`seed_from_runs` stores the runs' decisions as the follow-up's baseline week instead — the same
week folder a first `watch run` writes (decisions, reach, the datasets' copies, a `baseline`
batch), without a question to the registries about the subjects. The notification batches
published until then are acknowledged (the cursor moves past them: the runs decided on a registry
view that holds their changes); the next `watch run` fetches the batches published since.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Final

from entitle.decide.atomic import write_atomic
from entitle.decide.campaign.context import CampaignContext
from entitle.decide.campaign.definition import Campaign
from entitle.decide.campaign.reasons import PENDING
from entitle.decide.campaign.run import load_target
from entitle.decide.campaign.sources import read_dataset
from entitle.decide.follow_up.batches import prepare_week, settle
from entitle.decide.follow_up.folders import watch_dir
from entitle.decide.follow_up.redecide import WeekResult
from entitle.decide.follow_up.run import (
    DATASETS,
    WatchError,
    WeekSummary,
    _feed,
    _save_follow_up,
    _state,
    audit_week,
    fetch_batches,
)
from entitle.decide.follow_up.subjects import FollowUpState, reach_of
from entitle.store import campaigns as store

__all__ = ["seed_from_runs", "seed_states"]

MAX_PAST_BATCHES: Final = 520  # ten years of weekly batches: bounds a feed that never ends


def _state_of_run(
    ctx: CampaignContext, campaign: Campaign, run_id: int, as_of: date
) -> FollowUpState:
    """The run's decisions and the reach of the target on `as_of`, pseudonymised."""
    with ctx.factory() as session:
        rows = store.decision_rows(
            session, run_id, ["subject_pseudonym", "outcome", "band", "conditions"]
        )
    decisions = {
        r.subject_pseudonym: {
            "subject_pseudonym": r.subject_pseudonym,
            "outcome": r.outcome,
            "band": r.band,
            "conditions": dict(r.conditions or {}),
        }
        for r in rows
        if r.outcome != PENDING
    }
    pending = {r.subject_pseudonym for r in rows if r.outcome == PENDING}
    _, target = load_target(ctx, campaign, as_of, None)
    pseudonymise = ctx.pseudonymiser()
    subjects = target.subjects["subject_id"].to_list() + list(target.unknown)
    reach = {
        pseudonymise(person): {pseudonymise(s) for s in reached}
        for person, reached in reach_of(target.subject_kind, subjects, target.persons).items()
    }
    return FollowUpState(decisions, reach, pending)


def _past_batches(ctx: CampaignContext, state: dict[str, Any]) -> dict[str, Any]:
    """The cursor and processed receipts after every batch published so far."""
    cursor, processed = dict(state["cursor"]), list(state["processed"])
    for _ in range(MAX_PAST_BATCHES):
        fresh = [
            b
            for b in fetch_batches(ctx, cursor)
            if b.receipt is not None and b.receipt not in processed
        ]
        if not fresh:
            break
        for batch in fresh:
            cursor[_feed(batch)] = batch.receipt
            processed.append(batch.receipt)
    return {"cursor": cursor, "processed": processed}


def seed_from_runs(
    ctx: CampaignContext,
    campaigns: Sequence[Campaign],
    runs: Mapping[str, int],
    as_of: date,
    *,
    actor: str = "system",
    now: datetime | None = None,
) -> WeekSummary:
    """The follow-up's first week from each campaign's finished run on `as_of` (`runs`: campaign
    name → run id); refused when the follow-up has a week already, or a run is not of that date
    or not finished."""
    if _state(ctx)["current"] is not None:
        raise WatchError("the follow-up has its baseline already: seeding is for the first week")
    with ctx.factory() as session:
        for campaign in campaigns:
            run = store.get_run(session, runs[campaign.name]) if campaign.name in runs else None
            if run is None or run.campaign != campaign.name:
                raise WatchError(f"no run of {campaign.name} to seed the follow-up from")
            if run.as_of != as_of or run.status == "running":
                raise WatchError(
                    f"run {run.id} of {campaign.name} is {run.status} as of {run.as_of}: the "
                    f"follow-up's baseline needs a finished run as of {as_of}"
                )
    states = {c.name: _state_of_run(ctx, c, runs[c.name], as_of) for c in campaigns}
    summary = seed_states(ctx, campaigns, states, as_of, actor=actor, now=now)
    for campaign in campaigns:
        summary.campaigns[campaign.name]["seeded_from_run"] = runs[campaign.name]
    return summary


def seed_states(
    ctx: CampaignContext,
    campaigns: Sequence[Campaign],
    states: Mapping[str, FollowUpState],
    as_of: date,
    *,
    actor: str = "system",
    now: datetime | None = None,
) -> WeekSummary:
    """The follow-up's first week from each campaign's decisions on `as_of` (`states`: campaign
    name → its decisions, reach and pending subjects, pseudonymised), as a first `watch run`
    would store them; refused when the follow-up has a week already."""
    moment = now or datetime.now(UTC)
    root = watch_dir(ctx)
    root.mkdir(parents=True, exist_ok=True)
    state = _state(ctx)
    if state["current"] is not None:
        raise WatchError("the follow-up has its baseline already: seeding is for the first week")
    week = 1
    staging = root / f"week-{week:04d}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "local").mkdir(parents=True)
    for name in DATASETS:
        read_dataset(ctx.local, ctx.registry_url(), name).write_parquet(
            staging / "local" / f"{name}.parquet"
        )
    summary = WeekSummary(week, as_of, 0, 0)
    for campaign in campaigns:
        seeded = states[campaign.name]
        _save_follow_up(staging / campaign.name, WeekResult([], [], {}, seeded))
        batch = prepare_week(
            ctx, campaign, week, as_of, [], {}, moment, fingerprint="", actor=actor, baseline=True
        )
        summary.campaigns[campaign.name] = {
            "run": batch["run"],
            "decided": len(seeded.decisions) + len(seeded.pending),
            "questions": 0,
            "pending": len(seeded.pending),
            "seconds": 0.0,
            "new": 0,
            "changed": 0,
            "ended": 0,
            "unknown": 0,
        }
    (staging / "summary.json").write_text(
        json.dumps({**summary.__dict__, "as_of": as_of.isoformat()}, sort_keys=True, indent=1),
        encoding="utf-8",
    )
    final = root / f"week-{week:04d}"
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    audit_week(ctx, campaigns, summary, week=week, actor=actor)
    new_state = {
        **state,
        **_past_batches(ctx, state),
        "week": week,
        "current": final.name,
        "as_of": as_of.isoformat(),
    }
    write_atomic(root / "state.json", json.dumps(new_state, indent=1).encode())
    settle(ctx)
    return summary
