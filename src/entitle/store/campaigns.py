"""Campaign runs, their checkpoints and decisions, approvals, and the letters they issue.

Like the other store modules these functions flush and never commit: the caller commits once per
operation (a chunk's decisions together with its checkpoint; a verdict with its audit entry).

A run's life: `running` (chunks being decided; resumable; its summary says why when it paused
itself) → `draft` (every chunk stored, compared
with the previous run) → `approved` (enough distinct campaign managers approved) or `rejected`
→ `issued` (letters and lists produced). Only an `approved` run issues anything.

Idempotency is enforced by the schema, not only by the code: one running run per campaign
(`active_key`), one checkpoint per chunk, one decision per subject and run, one verdict per person
and run, and one letter of each kind per subject and campaign period (`issue_letters` skips what
exists), with unique coupon codes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from entitle.store import freetext
from entitle.store.audit import looks_like_insz
from entitle.store.models import (
    CampaignApproval,
    CampaignChunk,
    CampaignDecision,
    CampaignLetter,
    CampaignRun,
    utc,
)

RUN_STATUSES = ("running", "draft", "approved", "rejected", "issued")
VERDICTS = ("approve", "reject")
LETTER_KINDS = ("coupon", "invitation")
# "unknown": eligible before, undetermined now; "undetermined": not eligible before (or no
# earlier run), undetermined now; "none": not eligible now, nor before
CHANGES = ("new", "continued", "changed", "ended", "unknown", "undetermined", "none")


class CampaignStateError(ValueError):
    """The run is not in a state that allows this (e.g. approving a running run)."""


@dataclass(frozen=True)
class VerdictView:
    actor: str
    verdict: str
    note: str
    time: datetime


@dataclass(frozen=True)
class RunView:
    id: int
    campaign: str
    benefit: str
    benefit_version: str
    as_of: date
    period: str
    status: str
    scheduled_for: str | None
    previous_run_id: int | None
    chunk_size: int
    chunks_total: int
    subjects_total: int
    fingerprint: str
    approvals_required: int
    summary: dict[str, Any] | None
    outputs: dict[str, Any] | None
    started_by: str
    started: datetime
    finished: datetime | None
    decided: datetime | None
    issued: datetime | None
    verdicts: tuple[VerdictView, ...] = ()
    week: int | None = None  # a follow-up week's run (`entitle.store.weeks`); None: a full run

    @property
    def approvals(self) -> tuple[str, ...]:
        return tuple(v.actor for v in self.verdicts if v.verdict == "approve")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, date | datetime):
                value = value.isoformat()
            elif name == "verdicts":
                value = [
                    {
                        "actor": v.actor,
                        "verdict": v.verdict,
                        "note": v.note,
                        "time": v.time.isoformat(),
                    }
                    for v in value
                ]
            out[name] = value
        return out


@dataclass(frozen=True)
class LetterView:
    id: int
    run_id: int
    seq: int
    campaign: str
    period: str
    subject_pseudonym: str
    kind: str
    code: str | None
    band: str | None
    value: dict[str, Any]
    valid_until: date | None
    issued: datetime
    used: datetime | None
    used_by: str | None


def run_view(run: CampaignRun, verdicts: Sequence[CampaignApproval] = ()) -> RunView:
    """A run row as the use cases see it (with its approvals, when given)."""
    return RunView(
        id=run.id,
        campaign=run.campaign,
        benefit=run.benefit,
        benefit_version=run.benefit_version,
        as_of=run.as_of,
        period=run.period,
        status=run.status,
        scheduled_for=run.scheduled_for,
        previous_run_id=run.previous_run_id,
        chunk_size=run.chunk_size,
        chunks_total=run.chunks_total,
        subjects_total=run.subjects_total,
        fingerprint=run.fingerprint,
        approvals_required=run.approvals_required,
        summary=run.summary,
        outputs=run.outputs,
        started_by=run.started_by,
        started=utc(run.started),
        finished=utc(run.finished) if run.finished else None,
        decided=utc(run.decided) if run.decided else None,
        issued=utc(run.issued) if run.issued else None,
        verdicts=tuple(
            VerdictView(v.actor, v.verdict, v.note, utc(v.time))
            for v in sorted(verdicts, key=lambda v: v.id)
        ),
        week=run.week,
    )


def _letter(row: CampaignLetter) -> LetterView:
    return LetterView(
        id=row.id,
        run_id=row.run_id,
        seq=row.seq,
        campaign=row.campaign,
        period=row.period,
        subject_pseudonym=row.subject_pseudonym,
        kind=row.kind,
        code=row.code,
        band=row.band,
        value=dict(row.value or {}),
        valid_until=row.valid_until,
        issued=utc(row.issued),
        used=utc(row.used) if row.used else None,
        used_by=row.used_by,
    )


# --------------------------------------------------------------------------- runs


def create_run(
    session: Session,
    *,
    campaign: str,
    benefit: str,
    benefit_version: str,
    as_of: date,
    period: str,
    chunk_size: int,
    chunks_total: int,
    subjects_total: int,
    fingerprint: str,
    approvals_required: int,
    started_by: str,
    previous_run_id: int | None = None,
    scheduled_for: str | None = None,
    now: datetime | None = None,
) -> RunView:
    """A new `running` run. Raises `CampaignStateError` if the campaign has a running run."""
    if approvals_required not in (1, 2):
        raise ValueError("approvals_required is 1, or 2 for four eyes")
    run = CampaignRun(
        campaign=campaign,
        benefit=benefit,
        benefit_version=benefit_version,
        as_of=as_of,
        period=period,
        status="running",
        active_key=campaign,
        scheduled_for=scheduled_for,
        previous_run_id=previous_run_id,
        chunk_size=chunk_size,
        chunks_total=chunks_total,
        subjects_total=subjects_total,
        fingerprint=fingerprint,
        approvals_required=approvals_required,
        started_by=started_by,
        started=utc(now),
    )
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        raise CampaignStateError(f"campaign {campaign!r} already has a running run") from None
    return run_view(run)


def get_run(session: Session, run_id: int) -> RunView | None:
    run = session.get(CampaignRun, run_id)
    if run is None:
        return None
    verdicts = session.scalars(select(CampaignApproval).where(CampaignApproval.run_id == run_id))
    return run_view(run, list(verdicts))


def running_run(session: Session, campaign: str) -> RunView | None:
    """The campaign's unfinished run, if any."""
    run = session.scalars(select(CampaignRun).where(CampaignRun.active_key == campaign)).first()
    return run_view(run) if run else None


def list_runs(session: Session, campaign: str | None = None, limit: int = 50) -> list[RunView]:
    """Full runs, newest first (a follow-up week's run: `entitle.store.weeks`)."""
    query = (
        select(CampaignRun)
        .where(CampaignRun.week.is_(None))
        .order_by(CampaignRun.id.desc())
        .limit(limit)
    )
    if campaign is not None:
        query = query.where(CampaignRun.campaign == campaign)
    runs = list(session.scalars(query))
    verdicts: dict[int, list[CampaignApproval]] = {}
    if runs:
        for v in session.scalars(
            select(CampaignApproval).where(CampaignApproval.run_id.in_([r.id for r in runs]))
        ):
            verdicts.setdefault(v.run_id, []).append(v)
    return [run_view(r, verdicts.get(r.id, [])) for r in runs]


def last_run(
    session: Session,
    campaign: str,
    *,
    statuses: Iterable[str] = ("approved", "issued"),
    before: int | None = None,
) -> RunView | None:
    """The newest full run of the campaign in one of `statuses` (older than run `before`)."""
    query = (
        select(CampaignRun)
        .where(CampaignRun.campaign == campaign, CampaignRun.status.in_(list(statuses)))
        .where(CampaignRun.week.is_(None))
        .order_by(CampaignRun.id.desc())
        .limit(1)
    )
    if before is not None:
        query = query.where(CampaignRun.id < before)
    run = session.scalars(query).first()
    return run_view(run) if run else None


def runs_scheduled_for(session: Session, campaign: str, slot: str) -> list[RunView]:
    """Runs started for one schedule slot (any status)."""
    query = select(CampaignRun).where(
        CampaignRun.campaign == campaign, CampaignRun.scheduled_for == slot
    )
    return [run_view(r) for r in session.scalars(query)]


def _locked_run(session: Session, run_id: int) -> CampaignRun:
    run = session.scalars(
        select(CampaignRun).where(CampaignRun.id == run_id).with_for_update()
    ).first()
    if run is None:
        raise CampaignStateError(f"no campaign run {run_id}")
    return run


# --------------------------------------------------------------------------- chunks and decisions


def done_chunks(session: Session, run_id: int) -> set[int]:
    """Chunk numbers already decided and stored."""
    return set(
        session.scalars(select(CampaignChunk.chunk_no).where(CampaignChunk.run_id == run_id))
    )


def chunk_stats(session: Session, run_id: int) -> list[dict[str, Any]]:
    """Each stored chunk's number, size and fetch statistics, in order."""
    rows = session.execute(
        select(CampaignChunk.chunk_no, CampaignChunk.subjects, CampaignChunk.stats)
        .where(CampaignChunk.run_id == run_id)
        .order_by(CampaignChunk.chunk_no)
    )
    return [{"chunk": c, "subjects": n, "stats": s} for c, n, s in rows]


def refuse_insz_subjects(rows: Sequence[dict[str, Any]]) -> None:
    """Refuse decision rows whose subject looks like an INSZ: the store keeps pseudonyms only."""
    for row in rows:
        if looks_like_insz(row["subject_pseudonym"]):
            raise ValueError("subject_pseudonym must be a pseudonym, never an INSZ")


def save_chunk(
    session: Session,
    run_id: int,
    chunk_no: int,
    *,
    decisions: Sequence[dict[str, Any]],
    stats: dict[str, Any],
    now: datetime | None = None,
) -> bool:
    """Store a chunk's decisions and its checkpoint together. False (nothing written) when the
    chunk was stored already, e.g. by a second process resuming the same run."""
    run = _locked_run(session, run_id)
    if run.status != "running":
        raise CampaignStateError(f"run {run_id} is {run.status}, not running")
    exists = session.scalar(
        select(func.count())
        .select_from(CampaignChunk)
        .where(CampaignChunk.run_id == run_id, CampaignChunk.chunk_no == chunk_no)
    )
    if exists:
        return False
    refuse_insz_subjects(decisions)
    try:
        with session.begin_nested():
            session.add(
                CampaignChunk(
                    run_id=run_id,
                    chunk_no=chunk_no,
                    subjects=len(decisions),
                    stats=stats,
                    finished=utc(now),
                )
            )
            session.flush()
            if decisions:
                session.execute(
                    insert(CampaignDecision),
                    [{**row, "run_id": run_id, "chunk_no": chunk_no} for row in decisions],
                )
    except IntegrityError:
        stored = session.scalar(
            select(func.count())
            .select_from(CampaignChunk)
            .where(CampaignChunk.run_id == run_id, CampaignChunk.chunk_no == chunk_no)
        )
        if stored:  # another process stored the chunk meanwhile
            return False
        raise CampaignStateError(
            f"run {run_id}, chunk {chunk_no}: two decisions for one subject (duplicate keys in "
            "the target population); nothing of the chunk was stored"
        ) from None
    return True


def add_decisions(
    session: Session, run_id: int, rows: Sequence[dict[str, Any]], chunk_no: int = -1
) -> None:
    """Decision rows of a run outside its chunks: by default the extra rows (subjects of the
    previous run no longer in the target); a follow-up week stores its rows as chunk 0."""
    refuse_insz_subjects(rows)
    if rows:
        session.execute(
            insert(CampaignDecision),
            [{**row, "run_id": run_id, "chunk_no": chunk_no} for row in rows],
        )


def decision_rows(session: Session, run_id: int, columns: Sequence[str] | None = None) -> list[Any]:
    """A run's decisions (the named columns, default all), in storage order: rows with
    attribute access by column name."""
    names = columns or [c.name for c in CampaignDecision.__table__.columns]
    cols = [getattr(CampaignDecision, name) for name in names]
    query = select(*cols).where(CampaignDecision.run_id == run_id).order_by(CampaignDecision.id)
    return list(session.execute(query))


def decision_sample(
    session: Session,
    run_id: int,
    *,
    outcome: str | None = None,
    change: str | None = None,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """A few decisions of a run (for review), JSON-ready."""
    query = select(CampaignDecision).where(CampaignDecision.run_id == run_id)
    if outcome is not None:
        query = query.where(CampaignDecision.outcome == outcome)
    if change is not None:
        query = query.where(CampaignDecision.change == change)
    query = query.order_by(CampaignDecision.subject_pseudonym).limit(limit)
    out = []
    for row in session.scalars(query):
        out.append(
            {
                "subject": row.subject_pseudonym,
                "outcome": row.outcome,
                "change": row.change,
                "band": row.band,
                "previous_band": row.previous_band,
                "outputs": row.outputs,
                "conditions": row.conditions,
                "facts_missing": row.facts_missing,
                "missing": row.missing,
                "at_least": row.at_least,
                "reasons": row.reasons,
                "valid_until": row.valid_until.isoformat() if row.valid_until else None,
            }
        )
    return out


def finish_run(
    session: Session, run_id: int, summary: dict[str, Any], now: datetime | None = None
) -> RunView:
    """running → draft, with its summary figures."""
    run = _locked_run(session, run_id)
    if run.status != "running":
        raise CampaignStateError(f"run {run_id} is {run.status}, not running")
    run.status = "draft"
    run.active_key = None
    run.summary = summary
    run.finished = utc(now)
    session.flush()
    return run_view(run)


def pause_run(session: Session, run_id: int, paused: dict[str, Any]) -> RunView:
    """Record why a running run stopped itself (it stays `running`, to be resumed): kept in
    its summary until the run resumes or ends."""
    run = _locked_run(session, run_id)
    if run.status != "running":
        raise CampaignStateError(f"run {run_id} is {run.status}, not running")
    run.summary = {"paused": paused}
    session.flush()
    return run_view(run)


def resume_run(session: Session, run_id: int) -> None:
    """Forget a running run's pause (it is being resumed)."""
    run = _locked_run(session, run_id)
    if run.status == "running" and run.summary is not None:
        run.summary = None
        session.flush()


def abandon_run(session: Session, run_id: int, now: datetime | None = None) -> RunView:
    """Stop a running run for good (it becomes `rejected` and issues nothing)."""
    run = _locked_run(session, run_id)
    if run.status != "running":
        raise CampaignStateError(f"run {run_id} is {run.status}, not running")
    run.status = "rejected"
    run.active_key = None
    run.finished = run.decided = utc(now)
    session.flush()
    return run_view(run)


def record_verdict(
    session: Session,
    run_id: int,
    *,
    actor: str,
    verdict: Literal["approve", "reject"],
    note: str = "",
    now: datetime | None = None,
) -> RunView:
    """A campaign manager approves or rejects a draft run.

    A reject makes the run `rejected` at once. Approvals count per distinct person; the run is
    `approved` when `approvals_required` people approved (four eyes: 2). Raises
    `CampaignStateError` when the run is not a draft or this person already gave a verdict.
    """
    if verdict not in VERDICTS:
        raise ValueError(f"verdict is one of {VERDICTS}")
    if not actor:
        raise ValueError("a verdict needs an actor")
    run = _locked_run(session, run_id)
    if run.status != "draft":
        raise CampaignStateError(f"run {run_id} is {run.status}: only a draft can be reviewed")
    moment = utc(now)
    try:
        with session.begin_nested():
            session.add(
                CampaignApproval(
                    run_id=run_id,
                    actor=actor,
                    verdict=verdict,
                    note=freetext.clean(note[:2000], 2000),
                    time=moment,
                )
            )
            session.flush()
    except IntegrityError:
        raise CampaignStateError(f"{actor} already reviewed run {run_id}") from None
    verdicts = list(
        session.scalars(select(CampaignApproval).where(CampaignApproval.run_id == run_id))
    )
    if verdict == "reject":
        run.status = "rejected"
        run.decided = moment
    elif sum(v.verdict == "approve" for v in verdicts) >= run.approvals_required:
        run.status = "approved"
        run.decided = moment
    session.flush()
    return run_view(run, verdicts)


def mark_issued(
    session: Session, run_id: int, outputs: dict[str, Any], now: datetime | None = None
) -> tuple[RunView, bool]:
    """approved → issued, with what was produced. The flag says whether this call made the run
    issued (False: it was issued already, e.g. by another worker)."""
    run = _locked_run(session, run_id)
    if run.status not in ("approved", "issued"):
        raise CampaignStateError(f"run {run_id} is {run.status}: only an approved run issues")
    first = run.status == "approved"
    run.status = "issued"
    run.outputs = outputs
    if run.issued is None:
        run.issued = utc(now)
    session.flush()
    return run_view(run), first


# --------------------------------------------------------------------------- letters and coupons


def letter_keys(session: Session, campaign: str, period: str) -> set[tuple[str, str]]:
    """(subject pseudonym, kind) of every letter already issued in this campaign period."""
    rows = session.execute(
        select(CampaignLetter.subject_pseudonym, CampaignLetter.kind).where(
            CampaignLetter.campaign == campaign, CampaignLetter.period == period
        )
    )
    return {(s, k) for s, k in rows}


def issue_letters(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert letters, skipping any that exists (same campaign, period, subject and kind, or
    the same code). Returns how many were new. Never issues a letter twice, whoever calls."""
    if not rows:
        return 0
    refuse_insz_subjects(rows)
    for row in rows:
        if row["kind"] not in LETTER_KINDS:
            raise ValueError(f"letter kind is one of {LETTER_KINDS}")
    dialect = session.get_bind().dialect.name
    before = session.scalar(select(func.count()).select_from(CampaignLetter)) or 0
    if dialect == "postgresql":
        session.execute(postgresql.insert(CampaignLetter).on_conflict_do_nothing(), list(rows))
    elif dialect == "sqlite":
        session.execute(sqlite.insert(CampaignLetter).on_conflict_do_nothing(), list(rows))
    else:  # pragma: no cover - other databases: one by one
        for row in rows:
            try:
                with session.begin_nested():
                    session.execute(insert(CampaignLetter), [row])
            except IntegrityError:
                pass
    session.flush()
    after = session.scalar(select(func.count()).select_from(CampaignLetter)) or 0
    return int(after - before)


def letters_of_run(session: Session, run_id: int, kind: str | None = None) -> list[LetterView]:
    """The letters a run issued, in print order."""
    query = select(CampaignLetter).where(CampaignLetter.run_id == run_id)
    if kind is not None:
        query = query.where(CampaignLetter.kind == kind)
    return [_letter(r) for r in session.scalars(query.order_by(CampaignLetter.seq))]


def letter_counts(session: Session, run_id: int) -> dict[str, int]:
    """Letters issued by a run, per kind."""
    rows = session.execute(
        select(CampaignLetter.kind, func.count())
        .where(CampaignLetter.run_id == run_id)
        .group_by(CampaignLetter.kind)
    )
    return {k: int(n) for k, n in rows}


def find_coupon(session: Session, code: str) -> LetterView | None:
    query = select(CampaignLetter).where(CampaignLetter.code == code)
    row = session.scalars(query.execution_options(populate_existing=True)).first()
    return _letter(row) if row else None


def use_coupon(
    session: Session, code: str, *, actor: str, now: datetime | None = None
) -> Literal["used", "already_used", "unknown"]:
    """Mark a coupon used, once: a conditional update, so two shops racing cannot both win."""
    result = session.execute(
        update(CampaignLetter)
        .where(CampaignLetter.code == code, CampaignLetter.used.is_(None))
        .values(used=utc(now), used_by=actor[:150])
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) == 1:
        return "used"
    return "already_used" if find_coupon(session, code) is not None else "unknown"


def delete_run(session: Session, run_id: int) -> None:
    """Remove a run that issued nothing (tests, mistakes); refuses one with letters."""
    if session.scalar(
        select(func.count()).select_from(CampaignLetter).where(CampaignLetter.run_id == run_id)
    ):
        raise CampaignStateError(f"run {run_id} issued letters: it cannot be deleted")
    for table in (CampaignDecision, CampaignChunk, CampaignApproval):
        session.execute(delete(table).where(table.run_id == run_id))
    session.execute(delete(CampaignRun).where(CampaignRun.id == run_id))


# --------------------------------------------------------------------------- one subject


def letter_by_seq(session: Session, run_id: int, seq: int) -> LetterView | None:
    """One letter of a run by its number (indexed: no scan of the run's letters)."""
    query = select(CampaignLetter).where(CampaignLetter.run_id == run_id, CampaignLetter.seq == seq)
    row = session.scalars(query).first()
    return _letter(row) if row else None


def decision_of(session: Session, run_id: int, subject_pseudonym: str) -> Any | None:
    """One subject's decision in a run (a row with attribute access), or None."""
    query = select(*CampaignDecision.__table__.columns).where(
        CampaignDecision.run_id == run_id,
        CampaignDecision.subject_pseudonym == subject_pseudonym,
    )
    return session.execute(query).first()


def letters_about(session: Session, pseudonyms: Sequence[str]) -> list[LetterView]:
    """Every letter issued about these subjects, newest first."""
    if not pseudonyms:
        return []
    query = (
        select(CampaignLetter)
        .where(CampaignLetter.subject_pseudonym.in_(list(pseudonyms)))
        .order_by(CampaignLetter.issued.desc(), CampaignLetter.id.desc())
    )
    return [_letter(r) for r in session.scalars(query)]


def decisions_about(session: Session, pseudonyms: Sequence[str]) -> list[dict[str, Any]]:
    """Every campaign decision about these subjects, with its run, oldest first."""
    if not pseudonyms:
        return []
    query = (
        select(
            CampaignRun.id,
            CampaignRun.campaign,
            CampaignRun.benefit,
            CampaignRun.as_of,
            CampaignRun.started,
            CampaignRun.started_by,
            CampaignRun.status,
            CampaignDecision.subject_pseudonym,
            CampaignDecision.outcome,
            CampaignDecision.change,
            CampaignDecision.band,
            CampaignDecision.facts_used,
        )
        .join(CampaignRun, CampaignRun.id == CampaignDecision.run_id)
        .where(CampaignDecision.subject_pseudonym.in_(list(pseudonyms)))
        .order_by(CampaignRun.id)
    )
    return [
        {
            "run": row.id,
            "campaign": row.campaign,
            "benefit": row.benefit,
            "as_of": row.as_of,
            "started": utc(row.started) if row.started else None,
            "started_by": row.started_by,
            "status": row.status,
            "subject": row.subject_pseudonym,
            "outcome": row.outcome,
            "change": row.change,
            "band": row.band,
            "facts_used": list(row.facts_used or []),
        }
        for row in session.execute(query)
    ]


def coupon_moments(session: Session, campaign: str) -> list[tuple[datetime, datetime | None]]:
    """When each coupon of a campaign was issued and used (None: not yet), for take-up charts."""
    query = select(CampaignLetter.issued, CampaignLetter.used).where(
        CampaignLetter.campaign == campaign, CampaignLetter.kind == "coupon"
    )
    return [(utc(i), utc(u) if u else None) for i, u in session.execute(query)]
