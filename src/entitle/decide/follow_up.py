"""Weekly follow-up's letters: the standing approval and each week's batch.

A campaign with ``follow_up: {weekly: true}`` sends letters between full runs without a new
four-eyes review, within a *standing approval*: a campaign manager who approved a run approves
its weekly follow-up too, until a date (`grant_standing`; recorded in the watch folder's
``standing/<campaign>.json`` and audited). Each week `entitle watch run` stores, beside the week's
decisions, the campaign's *batch* (``batch.json``): `ready` when a standing approval covers the
week, else `unapproved` (recorded; its letters come with the next approved run); the first week, a
`baseline`, sends nothing; a week without a change is `empty`. A manager can
hold a ready batch and release it (`hold_batch`, `release_batch`; audited) until it goes out:
`issue_batch`, `hold_hours` after the week was decided (`due_batches`).

What a batch sends: a coupon letter to each newly eligible subject and an invitation to each
newly undetermined one (the same rule as a run, `letters_to_issue`), under the standing run's
approval; a notification record (when the campaign has notifications) for new subjects, and for
changed and ended ones when the campaign's policy says ``notify`` — otherwise they are only
recorded. Idempotent and resumable: the letters to send are fixed in the batch before any is
inserted, letters are keyed (campaign, period, subject, kind) in the database, and the files are
written whole; issuing a killed batch again gives the same letters and files, never a second one.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import statistics
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Final

from entitle.decide.atomic import write_atomic
from entitle.decide.campaign.context import CampaignContext, audit_run
from entitle.decide.campaign.definition import Campaign
from entitle.decide.campaign.figures import granted_outputs, letters_to_issue
from entitle.decide.campaign.letters import addressees, build_letter
from entitle.decide.campaign.notify import ORDER, Notification, recipients, write_notifications
from entitle.decide.campaign.sources import RegisterExtract
from entitle.decide.coupons import make_code
from entitle.decide.letters import Letter, write_letters
from entitle.store import campaigns as store
from entitle.store.campaigns import CampaignStateError

__all__ = [
    "BATCH_FILE",
    "DECIDED_FILE",
    "FollowUpError",
    "StandingApproval",
    "batch_path",
    "days_figures",
    "due_batches",
    "grant_standing",
    "hold_batch",
    "issue_batch",
    "list_batches",
    "prepare_batch",
    "release_batch",
    "scope_of",
    "standing_of",
    "week_folder",
    "weeks_of",
]

BATCH_FILE: Final = "batch.json"
DECIDED_FILE: Final = "decided.jsonl"  # the week's decision rows that may send something
# changes that can send something this week: a letter (new, undetermined, unknown) or a record
LETTER_CHANGES: Final = ("new", "changed", "ended", "unknown", "undetermined")


class FollowUpError(CampaignStateError):
    """The follow-up cannot do this (no standing approval, a held batch, no such week)."""


@dataclass(frozen=True)
class StandingApproval:
    """A manager's approval of a campaign's weekly follow-up: under run `run_id`'s approval,
    for the weeks decided on or before `until`; `scope` says what the weeks may send."""

    campaign: str
    run_id: int
    actor: str
    granted: str  # ISO moment
    until: date
    scope: dict[str, str]

    def covers(self, as_of: date) -> bool:
        return as_of <= self.until

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "until": self.until.isoformat()}


def _watch(ctx: CampaignContext) -> Path:
    return ctx.state_dir / "watch"


def _standing_path(ctx: CampaignContext, campaign: str) -> Path:
    return _watch(ctx) / "standing" / f"{campaign}.json"


def scope_of(campaign: Campaign) -> dict[str, str]:
    """What a week may send, per change (the campaign's policy), in words for the record."""
    policy = campaign.spec.follow_up
    letters = campaign.spec.outputs.letters
    return {
        "new": "letter" if letters else "record",
        "undetermined": "invitation" if letters and letters.invitation else "record",
        "changed": policy.changed,
        "ended": policy.ended,
    }


def standing_of(ctx: CampaignContext, campaign: str) -> StandingApproval | None:
    """The campaign's standing approval (the latest granted), if any."""
    path = _standing_path(ctx, campaign)
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return StandingApproval(**{**data, "until": date.fromisoformat(data["until"])})


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
    follow-up until `until`: each week's letters then go out without a new review. Audited."""
    if not campaign.spec.follow_up.weekly:
        raise FollowUpError(f"campaign {campaign.name} has no weekly follow-up (follow_up.weekly)")
    moment = now or datetime.now(UTC)
    with ctx.factory() as session:
        run = store.get_run(session, run_id)
        if run is None or run.campaign != campaign.name:
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
        path = _standing_path(ctx, campaign.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        history = path.with_suffix(".log")
        with history.open("a", encoding="utf-8") as log:  # every grant, kept
            log.write(json.dumps(standing.to_json(), sort_keys=True) + "\n")
        write_atomic(path, json.dumps(standing.to_json(), sort_keys=True, indent=1).encode())
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


# --------------------------------------------------------------------------- the week's batch


def batch_path(ctx: CampaignContext, campaign: str, week: int) -> Path:
    return _watch(ctx) / f"week-{week:04d}" / campaign / BATCH_FILE


def _letter_row(row: dict[str, Any], changed_on: date | None) -> dict[str, Any]:
    valid = row.get("valid_until")
    return {
        **{k: row.get(k) for k in ("subject_pseudonym", "outcome", "band", "change")},
        **{k: row.get(k) for k in ("outputs", "conditions", "facts_used", "facts_missing")},
        **{k: row.get(k) for k in ("at_least", "missing")},  # a partial decision's letter
        "reasons": row.get("reasons") or {},
        "valid_until": valid.isoformat() if isinstance(valid, date) else valid,
        "changed_on": changed_on.isoformat() if changed_on else None,
    }


def prepare_batch(
    folder: Path,
    ctx: CampaignContext,
    campaign: Campaign,
    week: int,
    as_of: date,
    rows: Sequence[dict[str, Any]],
    changed_on: dict[str, date],
    now: datetime,
    *,
    baseline: bool = False,
) -> dict[str, Any]:
    """Write the week's batch into the campaign's (staging) week folder: the decision rows that
    may send something and the batch record. Letters are chosen when the batch is issued. The
    first week is the `baseline` (every subject decided, compared with nothing): it sends
    nothing, the approved run did."""
    kept = [r for r in rows if r["change"] in LETTER_CHANGES]
    with (folder / DECIDED_FILE).open("w", encoding="utf-8") as out:
        for row in sorted(kept, key=lambda r: r["subject_pseudonym"]):
            record = _letter_row(row, changed_on.get(row["subject_pseudonym"]))
            out.write(json.dumps(record, sort_keys=True, default=str) + "\n")
    standing = standing_of(ctx, campaign.name) if campaign.spec.follow_up.weekly else None
    counts = {c: sum(1 for r in kept if r["change"] == c) for c in LETTER_CHANGES}
    covered = standing is not None and standing.covers(as_of)
    status = (
        "baseline" if baseline else "empty" if not kept else "ready" if covered else "unapproved"
    )
    batch = {
        "campaign": campaign.name,
        "week": week,
        "as_of": as_of.isoformat(),
        "prepared": now.isoformat(),
        "status": status,
        "standing_run": standing.run_id if standing is not None and covered else None,
        "changes": counts,
        "planned": None,
        "letters": {},
        "notifications": 0,
        "days": [],
        "history": [],
    }
    (folder / BATCH_FILE).write_text(json.dumps(batch, sort_keys=True, indent=1), "utf-8")
    return batch


def _read(ctx: CampaignContext, campaign: str, week: int) -> dict[str, Any]:
    path = batch_path(ctx, campaign, week)
    if not path.is_file():
        raise FollowUpError(f"no batch of campaign {campaign} in week {week}")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _write(ctx: CampaignContext, batch: dict[str, Any]) -> None:
    path = batch_path(ctx, batch["campaign"], int(batch["week"]))
    write_atomic(path, json.dumps(batch, sort_keys=True, indent=1).encode())


@contextmanager
def _locked(ctx: CampaignContext, campaign: str) -> Iterator[None]:
    """One change at a time to a campaign's batches (a hold never crosses an issue)."""
    path = _watch(ctx) / "standing" / f"{campaign}.batches.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def list_batches(ctx: CampaignContext, campaign: str) -> list[dict[str, Any]]:
    """The campaign's weekly batches, oldest first."""
    found = sorted(_watch(ctx).glob(f"week-[0-9][0-9][0-9][0-9]/{campaign}/{BATCH_FILE}"))
    return [json.loads(p.read_text(encoding="utf-8")) for p in found]


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
    with _locked(ctx, campaign.name):
        batch = _read(ctx, campaign.name, week)
        if batch["status"] != before:
            raise FollowUpError(
                f"the batch of week {week} is {batch['status']}: only a {before} batch can be "
                f"{after}"
            )
        batch["status"] = after
        batch["history"].append(
            {"status": after, "actor": actor, "time": moment.isoformat(), "note": note[:300]}
        )
        _write(ctx, batch)
        with ctx.factory() as session:
            audit_run(
                session,
                campaign,
                int(batch["standing_run"]),
                actor=actor,
                outcome=f"follow_up_{after}",
                now=moment,
                week=week,
                note=note[:300],
            )
            session.commit()
    return batch


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
    """A manager releases a held batch: it goes out at the next issue. Audited."""
    return _turn(ctx, campaign, week, actor=actor, note=note, now=now, before="held", after="ready")


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


def _decided(ctx: CampaignContext, campaign: str, week: int) -> list[SimpleNamespace]:
    path = batch_path(ctx, campaign, week).parent / DECIDED_FILE
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        valid = row["valid_until"]
        row["valid_until"] = date.fromisoformat(valid) if valid else None
        rows.append(SimpleNamespace(**row))
    return rows


def _notifications(
    campaign: Campaign,
    run_id: int,
    period: str,
    rows: Sequence[SimpleNamespace],
    to: dict[str, tuple[str, str]],
    coupons: set[str],
    key: bytes,
    week: int,
) -> list[Notification]:
    spec = campaign.spec.outputs.notifications
    if not spec:
        return []
    policy = campaign.spec.follow_up
    changes = {"new"} | {c for c in ("changed", "ended") if getattr(policy, c) == "notify"}
    letters = campaign.spec.outputs.letters
    languages = tuple(letters.languages) if letters else ("nl",)
    out = []
    for row in rows:
        found = to.get(row.subject_pseudonym)
        if row.change not in changes or row.change not in spec.changes or found is None:
            continue
        eligible = row.outcome == "eligible"
        has_coupon = eligible and row.subject_pseudonym in coupons
        ident = f"{campaign.name}|week {week}|{row.subject_pseudonym}|{row.change}"
        out.append(
            Notification(
                id=_digest(ident),
                campaign=campaign.name,
                period=period,
                run=run_id,
                reference=found[0],
                person=found[1],
                change=row.change,
                outcome=row.outcome,
                coupon=make_code(key, campaign.name, period, row.subject_pseudonym)
                if has_coupon
                else None,
                valid_until=row.valid_until.isoformat() if eligible and row.valid_until else None,
                languages=languages,
            )
        )
    out.sort(key=lambda n: (ORDER[n.change], n.reference, n.id))
    return out


def _postcode(to: dict[str, Any], pseudonym: str) -> str:
    """Print order: by postcode (a letter whose addressee moved away since: first)."""
    found = to.get(pseudonym)
    return str(found.postcode) if found is not None else ""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def week_folder(ctx: CampaignContext, campaign: str, week: int) -> Path:
    """Where a week's letters and notification file go: `<output>/<campaign>/week-NNNN/`."""
    return ctx.output_dir / campaign / f"week-{week:04d}"


def issue_batch(
    ctx: CampaignContext,
    campaign: Campaign,
    week: int,
    *,
    actor: str = "scheduler",
    now: datetime | None = None,
) -> dict[str, Any]:
    """Send a week's batch within the standing approval: letters (one merged PDF) and the
    notification file. Refused for a held or unapproved batch; an issued batch is returned as
    it is (idempotent); a batch killed while issuing is finished with the same letters."""
    moment = now or datetime.now(UTC)
    with _locked(ctx, campaign.name):
        batch = _read(ctx, campaign.name, week)
        if batch["status"] == "issued":
            return batch
        if batch["status"] not in ("ready", "issuing"):
            raise FollowUpError(f"the batch of week {week} is {batch['status']}: not sent")
        standing = standing_of(ctx, campaign.name)
        as_of = date.fromisoformat(batch["as_of"])
        if standing is None or not standing.covers(as_of):
            raise FollowUpError(f"no standing approval of {campaign.name} covers week {week}")
        run_id = int(batch["standing_run"])
        period = campaign.period(as_of)
        rows = _decided(ctx, campaign.name, week)
        by_pseudonym = {r.subject_pseudonym: r for r in rows}
        pseudonymise = ctx.pseudonymiser()
        extract = RegisterExtract.load(ctx.register)
        to = addressees(campaign, extract, pseudonymise) if campaign.spec.outputs.letters else {}
        if batch["planned"] is None:  # fixed once, before any letter is inserted
            with ctx.factory() as session:
                issued = store.letter_keys(session, campaign.name, period)
            batch["planned"] = [
                [row.subject_pseudonym, kind]
                for kind, row in letters_to_issue(campaign, rows, issued, as_of)
                if row.subject_pseudonym in to
            ]
            batch["status"] = "issuing"
            _write(ctx, batch)
        planned = {(p, k) for p, k in batch["planned"]}
        key = ctx.coupon_key()
        with ctx.factory() as session:
            seq = max((x.seq for x in store.letters_of_run(session, run_id)), default=0)
            inserts = []
            for pseudonym, kind in sorted(planned, key=lambda pk: (pk[1], _postcode(to, pk[0]))):
                row = by_pseudonym[pseudonym]
                seq += 1
                inserts.append(
                    {
                        "run_id": run_id,
                        "seq": seq,
                        "campaign": campaign.name,
                        "period": period,
                        "subject_pseudonym": pseudonym,
                        "kind": kind,
                        "code": make_code(key, campaign.name, period, pseudonym)
                        if kind == "coupon"
                        else None,
                        "band": row.band if kind == "coupon" else None,
                        "value": (granted_outputs(campaign, as_of, row) or {})
                        if kind == "coupon"
                        else {},
                        "valid_until": row.valid_until if kind == "coupon" else None,
                        "issued": moment,
                    }
                )
            store.issue_letters(session, inserts)
            session.commit()
            sent = [
                x
                for x in store.letters_of_run(session, run_id)
                if x.period == period and (x.subject_pseudonym, x.kind) in planned
            ]
        folder = week_folder(ctx, campaign.name, week)
        files = []
        if campaign.spec.outputs.letters:
            on = as_of

            def generate() -> Iterator[Letter]:
                for letter in sent:
                    if letter.subject_pseudonym not in to:  # moved away since it was planned
                        continue
                    yield build_letter(
                        campaign,
                        letter,
                        by_pseudonym[letter.subject_pseudonym],
                        to[letter.subject_pseudonym],
                        on=on,
                    )

            title = f"{campaign.spec.title.get('nl', campaign.name)} week {week}"
            write_letters(generate(), folder / "letters.pdf", title=title)
            files.append("letters.pdf")
        coupons = {x.subject_pseudonym for x in sent if x.kind == "coupon"}
        with ctx.factory() as session:
            coupons |= {
                p for p, k in store.letter_keys(session, campaign.name, period) if k == "coupon"
            }
        records = _notifications(
            campaign,
            run_id,
            period,
            rows,
            recipients(campaign, extract, pseudonymise),
            coupons,
            key,
            week,
        )
        if campaign.spec.outputs.notifications:
            write_notifications(records, folder / "notifications.jsonl")
            files.append("notifications.jsonl")
        days = sorted(
            (moment.date() - date.fromisoformat(by_pseudonym[x.subject_pseudonym].changed_on)).days
            for x in sent
            if by_pseudonym[x.subject_pseudonym].changed_on
        )
        counts = {kind: sum(1 for x in sent if x.kind == kind) for kind in ("coupon", "invitation")}
        batch.update(
            status="issued",
            letters=counts,
            notifications=len(records),
            days=days,
            files=files,
            issued=moment.isoformat(),
        )
        batch["history"].append({"status": "issued", "actor": actor, "time": moment.isoformat()})
        with ctx.factory() as session:
            audit_run(
                session,
                campaign,
                run_id,
                kind="export",
                actor=actor,
                outcome="follow_up_issued",
                now=moment,
                week=week,
                letters=counts,
                notifications=len(records),
            )
            session.commit()
        _write(ctx, batch)
    return batch


def days_figures(days: Sequence[int]) -> dict[str, float | None]:
    """Median and 95th percentile (nearest rank) of days from registry change to letter."""
    if not days:
        return {"median": None, "p95": None, "count": 0}
    ordered = sorted(days)
    rank = max(0, -(-95 * len(ordered) // 100) - 1)
    return {"median": statistics.median(ordered), "p95": ordered[rank], "count": len(ordered)}


def weeks_of(ctx: CampaignContext, campaign: str) -> list[dict[str, Any]]:
    """The campaign's weeks, oldest first, for the dashboard: the week's new, changed and ended
    subjects, its batch (status, letters, what happened) and the days from registry change to
    letter (median and 95th percentile)."""
    batches = {int(b["week"]): b for b in list_batches(ctx, campaign)}
    out = []
    for path in sorted(_watch(ctx).glob("week-[0-9][0-9][0-9][0-9]/summary.json")):
        summary = json.loads(path.read_text(encoding="utf-8"))
        figures = summary.get("campaigns", {}).get(campaign)
        if figures is None:
            continue
        batch = batches.get(int(summary["week"]), {})
        out.append(
            {
                "week": int(summary["week"]),
                "as_of": summary["as_of"],
                **{c: int(figures.get(c, 0)) for c in ("new", "changed", "ended")},
                "pending": int(figures.get("pending", 0)),
                "status": batch.get("status", "baseline"),
                "letters": dict(batch.get("letters") or {}),
                "history": list(batch.get("history") or []),
                "days": list(batch.get("days") or []),  # one per letter: no one named
            }
        )
    return out
