"""`entitle watch run`: one week of follow-up for every active campaign.

1. Fetch the next batch of each notification feed after the stored cursor (or read the batches
   from files), and compare the city's own datasets with last week's copies.
2. For each campaign: the subjects the changed persons reach (`week_subjects`), decided again
   through the gateway (`decide_week`), compared with their last decisions.
3. Store the week — every campaign's decisions, reach, changes, the datasets' copies — in a new
   folder ``<state>/watch/week-NNNN/``, and each campaign's week as a run of its own in the
   database (`batches.prepare_week`, ``preparing``), then move the cursor by replacing
   ``state.json`` in one atomic step; the week's runs then take their status (`batches.settle`).
   A week killed before that step leaves the old state: the next run fetches the same batches
   from the same cursor, decides the same subjects and stores the week's runs again in place
   (resumable, idempotent; a week's changes are written once). A batch whose receipt was
   already processed is refused.

Nothing stored holds an INSZ: decisions, reach and changes are pseudonymised; the datasets'
copies are the city's own data, kept in the state folder next to the pseudonymisation key.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

import polars as pl

from entitle.decide.atomic import write_atomic
from entitle.decide.campaign.context import CampaignContext
from entitle.decide.campaign.definition import Campaign
from entitle.decide.campaign.inscriptions import magda_settings, sync_campaign
from entitle.decide.campaign.run import load_target
from entitle.decide.campaign.sources import RegisterExtract, Target, read_dataset
from entitle.decide.follow_up.batches import prepare_week, settle
from entitle.decide.follow_up.folders import watch_dir
from entitle.decide.follow_up.redecide import WeekResult, decide_week
from entitle.decide.follow_up.subjects import FollowUpState, changed_in_dataset
from entitle.sources.magda import MagdaClient, parse_response
from entitle.sources.magda.mutations import (
    MutatiesNotificatiesCriteria,
    NotificationBatch,
    NotificationError,
    PersoonMutatiesNotificatiesCriteria,
    batch_of,
    read_batch,
)
from entitle.sources.magda.settings import load_settings
from entitle.store import audit

__all__ = [
    "FOLLOW_UP_PURPOSE",
    "NotificationError",
    "WatchError",
    "WeekSummary",
    "fetch_batches",
    "list_weeks",
    "read_batch_files",
    "run_week",
    "watch_dir",
    "week_changes",
]

log = logging.getLogger("entitle.watch")

FOLLOW_UP_PURPOSE: Final = "proactive-follow-up"
FEEDS: Final = ("persoon", "algemeen")
DATASETS: Final = ("ocmw_clients", "school_enrolments")


class WatchError(ValueError):
    """The week cannot be followed up as asked; nothing was stored and the cursor did not move."""


@dataclass
class WeekSummary:
    """What a week of follow-up did: per campaign, its counts and costs."""

    week: int
    as_of: date
    notifications: int
    changed_persons: int
    campaigns: dict[str, dict[str, Any]] = field(default_factory=dict)
    nothing_new: bool = False
    ignored: int = 0  # notifications for persons the city does not follow


def _state(ctx: CampaignContext) -> dict[str, Any]:
    path = watch_dir(ctx) / "state.json"
    if not path.is_file():
        return {"week": 0, "current": None, "cursor": dict.fromkeys(FEEDS), "processed": []}
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise WatchError(f"{path} is damaged: {exc}") from None
    return data


def _load_follow_up(folder: Path | None) -> FollowUpState:
    if folder is None or not (folder / "decisions.parquet").is_file():
        return FollowUpState()
    decisions = {
        row["subject_pseudonym"]: {**row, "conditions": json.loads(row["conditions"])}
        for row in pl.read_parquet(folder / "decisions.parquet").iter_rows(named=True)
    }
    reach: dict[str, set[str]] = {}
    for person, subject in pl.read_parquet(folder / "reach.parquet").iter_rows():
        reach.setdefault(person, set()).add(subject)
    pending = set(json.loads((folder / "pending.json").read_text(encoding="utf-8")))
    return FollowUpState(decisions, reach, pending)


def _save_follow_up(folder: Path, result: WeekResult) -> None:
    folder.mkdir(parents=True)
    state = result.state
    pl.DataFrame(
        [
            {
                "subject_pseudonym": p,
                "outcome": d["outcome"],
                "band": d.get("band"),
                "conditions": json.dumps(d.get("conditions", {}), sort_keys=True),
            }
            for p, d in sorted(state.decisions.items())
        ],
        schema={
            "subject_pseudonym": pl.String(),
            "outcome": pl.String(),
            "band": pl.String(),
            "conditions": pl.String(),
        },
    ).write_parquet(folder / "decisions.parquet")
    pl.DataFrame(
        [(p, s) for p, subjects in sorted(state.reach.items()) for s in sorted(subjects)],
        schema={"person_pseudonym": pl.String(), "subject_pseudonym": pl.String()},
        orient="row",
    ).write_parquet(folder / "reach.parquet")
    (folder / "pending.json").write_text(json.dumps(sorted(state.pending)), encoding="utf-8")
    with (folder / "changes.jsonl").open("w", encoding="utf-8") as out:
        for row in [*result.rows, *result.gone]:
            if row["change"] in ("none", "continued"):
                continue
            record = {k: row.get(k) for k in ("subject_pseudonym", "change", "outcome", "band")}
            out.write(json.dumps(record, sort_keys=True) + "\n")


def fetch_batches(ctx: CampaignContext, cursor: dict[str, str | None]) -> list[NotificationBatch]:
    """The next batch of each feed after the cursor, through the MAGDA client."""
    overrides = dict(ctx.magda_overrides)
    if ctx.registry:
        overrides["base_url"] = ctx.registry
    with MagdaClient(load_settings(**overrides)) as client:
        results = client.ask(
            [
                PersoonMutatiesNotificatiesCriteria(after=cursor.get("persoon")),
                MutatiesNotificatiesCriteria(after=cursor.get("algemeen")),
            ],
            purpose=FOLLOW_UP_PURPOSE,
        )
    return [batch_of(result) for result in results]


def read_batch_files(paths: Sequence[Path]) -> list[NotificationBatch]:
    """Batches from reply files (MAGDA's published files): one per feed at most."""
    batches = []
    for path in paths:
        try:
            batches.append(read_batch(parse_response(path.read_bytes())))
        except OSError as exc:
            raise WatchError(f"cannot read {path}: {exc.strerror or exc}") from None
    return batches


@dataclass(frozen=True)
class _Followed:
    residents: set[str]  # persons of the register extract (ids)
    reach: set[str]  # person pseudonyms a standing decision reads


def _followed(
    ctx: CampaignContext, campaigns: Sequence[Campaign], current: Path | None, pseudonymise: Any
) -> _Followed:
    """Whom the city follows: the persons of its register extract and those a standing decision
    still reads (who left or died). Until the inscription repertory says who is inscribed, a
    notification about anyone else is ignored (and logged, without the number)."""
    extract = RegisterExtract.load(ctx.register).persons
    reach: set[str] = set()
    for campaign in campaigns:
        folder = current / campaign.name if current else None
        if folder is not None and (folder / "reach.parquet").is_file():
            people = pl.read_parquet(folder / "reach.parquet", columns=["person_pseudonym"])
            reach.update(people["person_pseudonym"].to_list())
    return _Followed(set(extract["person_id"].cast(pl.String).to_list()), reach)


def _changed_on(
    batches: Sequence[NotificationBatch],
    pseudonymise: Any,
    before: dict[str, set[str]],
    after: dict[str, set[str]],
) -> dict[str, date]:
    """Subject pseudonym → the earliest day a notified person it reads changed (when the
    notifications say the day): where the time from registry change to letter starts."""
    first: dict[str, date] = {}
    for batch in batches:
        for note in batch.notifications:
            if note.day is None:
                continue
            person = pseudonymise(note.insz)
            for subject in before.get(person, set()) | after.get(person, set()):
                if subject not in first or note.day < first[subject]:
                    first[subject] = note.day
    return first


def _inscribe(
    ctx: CampaignContext, campaign: Campaign, as_of: date, target: Target
) -> dict[str, int]:
    """When KSZ data needs an inscription (the MAGDA settings): sync the campaign's target
    before deciding it — the persons who entered it since last week are inscribed (their KSZ
    facts answer, their mutations are notified from now on), those who left deregistered; the
    others cost no call. Counts for the week's summary; nothing when not required."""
    if not magda_settings(ctx).require_inscriptions:
        return {}
    persons = [str(i) for i in target.persons["person_id"].to_list()]
    result = sync_campaign(ctx, campaign, as_of, today=ctx.today(), persons=persons)
    if result.failed:
        log.warning("week's inscription sync of %s: not inscribed %s", campaign.name, result.failed)
    return {
        "inscribed": result.inscribed,
        "deregistered": result.deregistered,
        "inscription_failures": sum(result.failed.values()),
    }


def _feed(batch: NotificationBatch) -> str:
    return "persoon" if batch.service == "GeefPersoonMutatiesNotificaties" else "algemeen"


def run_week(
    ctx: CampaignContext,
    campaigns: Sequence[Campaign],
    as_of: date,
    *,
    actor: str = "system",
    files: Sequence[Path] = (),
    now: datetime | None = None,
    slot: str | None = None,
) -> WeekSummary:
    """Follow up one week for `campaigns`; see the module's description. Each campaign's week
    is stored as a run of its own with its batch of letters (`batches.prepare_week`), prepared
    at `now`; `slot` is the schedule moment this week was run for (`entitle campaign
    schedule`)."""
    moment = now or datetime.now(UTC)
    root = watch_dir(ctx)
    root.mkdir(parents=True, exist_ok=True)
    settle(ctx)  # a week killed after its commit, before its runs took their status
    state = _state(ctx)
    batches = read_batch_files(files) if files else fetch_batches(ctx, state["cursor"])
    seen: set[str] = set()
    for batch in batches:
        if batch.receipt is None:
            continue
        if batch.receipt in state["processed"] or batch.receipt in seen:
            raise WatchError(
                f"notification batch {batch.receipt} of {batch.service} was already processed"
            )
        seen.add(batch.receipt)
    week = int(state["week"]) + 1
    first = state["current"] is None
    if not first and not seen:
        if slot is not None and slot != state.get("slot"):  # the moment is used up all the same
            write_atomic(
                root / "state.json", json.dumps({**state, "slot": slot}, indent=1).encode()
            )
        return WeekSummary(week - 1, as_of, 0, 0, nothing_new=True)
    current = root / state["current"] if state["current"] else None
    pseudonymise = ctx.pseudonymiser()
    followed = _followed(ctx, campaigns, current, pseudonymise)
    notified = {n.insz for b in batches for n in b.notifications}
    changed = {i for i in notified if i in followed.residents or pseudonymise(i) in followed.reach}
    ignored = sum(1 for b in batches for n in b.notifications if n.insz not in changed)
    if ignored and not first:
        log.warning(
            "week %d: %d notifications for persons the city does not follow, ignored", week, ignored
        )
    staging = root / f"week-{week:04d}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "local").mkdir(parents=True)
    for name in DATASETS:
        after = read_dataset(ctx.local, ctx.registry_url(), name)
        old = current / "local" / f"{name}.parquet" if current else None
        before = pl.read_parquet(old) if old is not None and old.is_file() else None
        if not first:
            changed |= changed_in_dataset(before, after)
        after.write_parquet(staging / "local" / f"{name}.parquet")
    summary = WeekSummary(week, as_of, sum(len(b.notifications) for b in batches), len(changed))
    summary.ignored = ignored if not first else 0
    source = ctx.fact_source()
    try:
        for campaign in campaigns:
            started = time.perf_counter()
            _, target = load_target(ctx, campaign, as_of, None)
            inscribed = _inscribe(ctx, campaign, as_of, target)
            previous = _load_follow_up(current / campaign.name if current else None)
            result = decide_week(campaign, as_of, target, previous, changed, source, pseudonymise)
            _save_follow_up(staging / campaign.name, result)
            since = _changed_on(batches, pseudonymise, previous.reach, result.state.reach)
            week_batch = prepare_week(
                ctx,
                campaign,
                week,
                as_of,
                [*result.rows, *result.gone],
                since,
                moment,
                fingerprint=target.fingerprint(),
                actor=actor,
                baseline=first,
            )
            summary.campaigns[campaign.name] = {
                "run": week_batch["run"],
                "decided": result.stats["subjects"],
                "questions": result.stats.get("questions", 0),
                "pending": result.stats["pending"],
                "seconds": round(time.perf_counter() - started, 3),
                **{c: result.count(c) for c in ("new", "changed", "ended", "unknown")},
                **inscribed,
            }
    finally:
        ctx.close_source(source)
    (staging / "summary.json").write_text(
        json.dumps({**summary.__dict__, "as_of": as_of.isoformat()}, sort_keys=True, indent=1),
        encoding="utf-8",
    )
    final = root / f"week-{week:04d}"
    shutil.rmtree(final, ignore_errors=True)  # a killed earlier attempt of this same week
    staging.rename(final)
    cursor = dict(state["cursor"])
    for batch in batches:
        if batch.receipt is not None:
            cursor[_feed(batch)] = batch.receipt
    new_state = {
        "week": week,
        "current": final.name,
        "as_of": as_of.isoformat(),
        "cursor": cursor,
        "processed": [*state["processed"], *sorted(seen)],
        "slot": slot or state.get("slot"),
    }
    audit_week(ctx, campaigns, summary, week=week, actor=actor)
    write_atomic(root / "state.json", json.dumps(new_state, indent=1).encode())
    settle(ctx)
    return summary


def audit_week(
    ctx: CampaignContext,
    campaigns: Sequence[Campaign],
    summary: WeekSummary,
    *,
    week: int,
    actor: str,
) -> None:
    """One audit entry per followed campaign about a stored week: its counts, never personal
    data."""
    with ctx.factory() as session:
        for campaign in campaigns:
            audit.append(
                session,
                kind="admin",
                actor=actor,
                purpose=campaign.benefit.purpose,
                subject=None,
                outcome="follow_up_week",
                details={
                    "campaign": campaign.name,
                    "week": week,
                    **summary.campaigns[campaign.name],
                },
            )
        session.commit()


def list_weeks(ctx: CampaignContext) -> list[dict[str, Any]]:
    """Every week followed up, oldest first: its date, notifications and per-campaign counts."""
    weeks = []
    for path in sorted(watch_dir(ctx).glob("week-[0-9][0-9][0-9][0-9]/summary.json")):
        weeks.append(json.loads(path.read_text(encoding="utf-8")))
    return weeks


def week_changes(ctx: CampaignContext, week: int, campaign: str) -> list[dict[str, Any]]:
    """The stored changes (pseudonymised) of one campaign in one week."""
    path = watch_dir(ctx) / f"week-{week:04d}" / campaign / "changes.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
