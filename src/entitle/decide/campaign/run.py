"""A campaign run: select the target, decide it chunk by chunk, close it as a draft.

Resumable and idempotent: a run killed at any moment (even SIGKILL) is continued by the next
`run_campaign` of the same campaign, which skips the chunks already stored; decisions of a chunk
are written with its checkpoint in one transaction, so a chunk is stored entirely or not at all.

Safe against our own faults: a lock per campaign and period, plausibility gates and a preflight
before anyone is decided, and a circuit that pauses the run when too many of a chunk's subjects
are pending through failures of ours (see `run_campaign`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from entitle.decide.campaign.context import CampaignContext, audit_run
from entitle.decide.campaign.definition import Campaign
from entitle.decide.campaign.evaluate import (
    decide_chunk_rows,
    previous_state,
    unknown_rows,
    with_change,
)
from entitle.decide.campaign.figures import summarise
from entitle.decide.campaign.gates import check_gates
from entitle.decide.campaign.lock import run_lock
from entitle.decide.campaign.preflight import PreflightCheck, preflight
from entitle.decide.campaign.progress import RunProgress, Stages, stage_labels
from entitle.decide.campaign.reasons import PENDING
from entitle.decide.campaign.sources import RegisterExtract, Target, read_dataset, select_target
from entitle.decide.reasons import ours_in
from entitle.store import campaigns as store
from entitle.store.campaigns import CampaignStateError, RunView


def load_target(
    ctx: CampaignContext, campaign: Campaign, as_of: date, chunk_size: int | None
) -> tuple[RegisterExtract, Target]:
    """The register extract and the campaign's target population on `as_of`, in chunks."""
    extract = RegisterExtract.load(ctx.register)
    dataset = None
    if campaign.spec.target.kind == "pupils":
        dataset = read_dataset(ctx.local, ctx.registry_url(), campaign.spec.target.dataset)
    return extract, select_target(campaign, extract, as_of, dataset=dataset, chunk_size=chunk_size)


def _previous_decisions(session: Session, run_id: int | None) -> dict[str, tuple[str, str | None]]:
    if run_id is None:
        return {}
    columns = ["subject_pseudonym", "outcome", "band", "change", "previous_band"]
    rows = store.decision_rows(session, run_id, columns)
    return {s: previous_state(o, b, c, p) for s, o, b, c, p in rows}


def run_campaign(
    ctx: CampaignContext,
    campaign: Campaign,
    as_of: date | None = None,
    *,
    actor: str = "system",
    scheduled_for: str | None = None,
    chunk_size: int | None = None,
    progress: RunProgress | None = None,
    max_chunks: int | None = None,
    workers: int = 1,
    confirm_population: bool = False,
    checks: Sequence[PreflightCheck] | None = None,
) -> RunView:
    """Run (or resume) the campaign; returns the run, a `draft` when every chunk is done.

    `as_of` defaults to the unfinished run's date when there is one, else today. A running run
    of the campaign is resumed (for another `as_of`: `CampaignStateError`); its target must be
    unchanged (same subjects, same chunks). `max_chunks` stops after that many new chunks (the run
    stays `running`, to be resumed). `workers` > 1 decides chunks in that many processes (with
    the gateway; an injected `ctx.source` always runs in this process).

    The safeguards, in order: one process per campaign and period (`RunLocked`); for a new run
    the plausibility gates (`GateError`; `confirm_population` lets a checked population change
    through, audited); the preflight `checks` (default `CHECKS`; `PreflightError`) before the
    first chunk is decided; and the circuit: a chunk with more than `ctx.max_failure_share` of
    its subjects pending through our failures is not stored, and the run pauses (it stays
    `running`, its summary says why) to be resumed by the next run.
    """
    with ctx.factory() as session:
        running = store.running_run(session, campaign.name)
    when = as_of or (running.as_of if running is not None else ctx.today())
    with run_lock(ctx, campaign.name, campaign.period(when)):
        return _run_locked(
            ctx,
            campaign,
            as_of,
            actor=actor,
            scheduled_for=scheduled_for,
            chunk_size=chunk_size,
            progress=progress,
            max_chunks=max_chunks,
            workers=workers,
            confirm_population=confirm_population,
            checks=checks,
        )


def _run_locked(
    ctx: CampaignContext,
    campaign: Campaign,
    as_of: date | None,
    *,
    actor: str,
    scheduled_for: str | None,
    chunk_size: int | None,
    progress: RunProgress | None,
    max_chunks: int | None,
    workers: int,
    confirm_population: bool,
    checks: Sequence[PreflightCheck] | None,
) -> RunView:
    benefit = campaign.benefit
    with ctx.factory() as session:
        running = store.running_run(session, campaign.name)
    if running is not None:
        if as_of is not None and as_of != running.as_of:
            raise CampaignStateError(
                f"run {running.id} of {campaign.name} for {running.as_of} is unfinished: resume "
                f"it (same --as-of) or abandon it first"
            )
        as_of = running.as_of
        chunk_size = running.chunk_size
    when = as_of or ctx.today()
    extract, target = load_target(ctx, campaign, when, chunk_size)
    confirmed = None
    if running is None:
        confirmed = check_gates(
            ctx, campaign, extract, target, confirm_population=confirm_population
        )
    elif target.fingerprint() != running.fingerprint:
        raise CampaignStateError(
            f"the target population of run {running.id} changed since it started (register "
            f"extract or enrolments): abandon run {running.id} and start a new one"
        )
    del extract
    with ctx.factory() as session:
        stored = store.chunk_stats(session, running.id) if running is not None else []
    done = {chunk["chunk"] for chunk in stored}
    todo = [n for n in range(target.total_chunks) if n not in done]
    if max_chunks is not None:
        todo = todo[:max_chunks]
    if todo:
        preflight(ctx, campaign, when, target, checks)
    if running is None:
        with ctx.factory() as session:
            previous = store.last_run(session, campaign.name)
            run = store.create_run(
                session,
                campaign=campaign.name,
                benefit=benefit.id,
                benefit_version=benefit.version,
                as_of=when,
                period=campaign.period(when),
                chunk_size=target.chunk_size,
                chunks_total=target.total_chunks,
                subjects_total=target.size,
                fingerprint=target.fingerprint(),
                approvals_required=campaign.approvals_required,
                started_by=actor,
                previous_run_id=previous.id if previous else None,
                scheduled_for=scheduled_for,
            )
            audit_run(
                session,
                campaign,
                run.id,
                actor=actor,
                outcome="campaign_run_started",
                as_of=when.isoformat(),
            )
            if confirmed is not None:
                audit_run(
                    session,
                    campaign,
                    run.id,
                    actor=actor,
                    outcome="campaign_population_confirmed",
                    **confirmed,
                )
            session.commit()
    else:
        run = running
        with ctx.factory() as session:
            store.resume_run(session, run.id)
            session.commit()
    with ctx.factory() as session:
        previous_rows = _previous_decisions(session, run.previous_run_id)
    stages = Stages([s for s, _ in stage_labels(benefit)], progress)
    if progress is not None:
        progress.start(stage_labels(benefit), target.size, sum(c["subjects"] for c in stored))
    pseudonymise = ctx.pseudonymiser()
    regular = [n for n in todo if n < target.chunks]
    if target.unknown and target.chunks in todo:
        _save(
            ctx,
            run.id,
            target.chunks,
            unknown_rows(campaign, target.unknown, pseudonymise),
            {"fetched": {}, "questions": 0, "seconds": 0.0},
            previous_rows,
        )
        stages.begin(len(target.unknown))
        stages.end()
    paused: dict[str, Any] | None = None
    if regular and workers > 1 and ctx.source is None and len(regular) > 1:
        paused = _run_in_workers(
            ctx, campaign, when, target, regular, workers, stages, progress, previous_rows, run.id
        )
    elif regular:
        source = ctx.fact_source()
        try:
            for number in regular:
                subjects, persons, households = target.chunk(number)
                stages.begin(len(subjects))
                rows, stats = decide_chunk_rows(
                    campaign,
                    when,
                    subjects,
                    persons,
                    households,
                    source,
                    pseudonymise,
                    stages.on_fetch,
                )
                paused = tripped(ctx, number, rows)
                if paused is not None:
                    break
                _save(ctx, run.id, number, rows, stats, previous_rows)
                stages.end()
        finally:
            ctx.close_source(source)
    if paused is not None:
        return _pause(ctx, campaign, run.id, paused, actor=actor)
    if max_chunks is not None and len(done) + len(todo) < target.total_chunks:
        with ctx.factory() as session:
            still = store.get_run(session, run.id)
        assert still is not None
        return still
    return finish(ctx, campaign, run.id, actor=actor)


def tripped(ctx: CampaignContext, number: int, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Why the circuit stops the run at this chunk (its share of subjects pending through our
    failures is above `ctx.max_failure_share`), or None."""
    pending = [row for row in rows if row["outcome"] == PENDING]
    if not rows or len(pending) / len(rows) <= ctx.max_failure_share:
        return None
    reasons: Counter[str] = Counter()
    for row in pending:
        for fact, why in ours_in(row["reasons"]).items():
            reasons[f"{fact} ({why.label()})"] += 1
    return {
        "chunk": number,
        "subjects": len(rows),
        "pending": len(pending),
        "share": round(len(pending) / len(rows), 4),
        "threshold": ctx.max_failure_share,
        "reasons": dict(reasons.most_common(5)),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _pause(
    ctx: CampaignContext, campaign: Campaign, run_id: int, paused: dict[str, Any], *, actor: str
) -> RunView:
    with ctx.factory() as session:
        view = store.pause_run(session, run_id, paused)
        audit_run(
            session,
            campaign,
            run_id,
            actor=actor,
            outcome="campaign_run_paused",
            chunk=paused["chunk"],
            pending=paused["pending"],
            subjects=paused["subjects"],
            reasons=sorted(paused["reasons"]),
        )
        session.commit()
    return view


def pause_line(view: RunView) -> str | None:
    """Why a running run paused itself, in one line (None when it did not)."""
    paused = (view.summary or {}).get("paused")
    if not paused:
        return None
    reasons = ", ".join(f"{k}: {n}" for k, n in paused["reasons"].items()) or "-"
    return (
        f"run {view.id} of {view.campaign} paused at chunk {paused['chunk']}: "
        f"{paused['pending']} of {paused['subjects']} subjects ({paused['share']:.0%}) could not "
        f"be decided through failures of ours (more than {paused['threshold']:.0%}): {reasons}. "
        "Nothing of that chunk was stored; fix the cause, then run the campaign again to resume"
    )


def _save(
    ctx: CampaignContext,
    run_id: int,
    number: int,
    rows: list[dict[str, Any]],
    stats: dict[str, Any],
    previous: dict[str, tuple[str, str | None]],
) -> None:
    """A chunk's decisions and its checkpoint, in one transaction."""
    with ctx.factory() as session:
        store.save_chunk(
            session, run_id, number, decisions=with_change(rows, previous), stats=stats
        )
        session.commit()


def _run_in_workers(
    ctx: CampaignContext,
    campaign: Campaign,
    as_of: date,
    target: Target,
    numbers: list[int],
    workers: int,
    stages: Stages,
    progress: RunProgress | None,
    previous: dict[str, tuple[str, str | None]],
    run_id: int,
) -> dict[str, Any] | None:
    """Decide chunks in worker processes; why the circuit stopped them, or None."""
    from entitle.decide.campaign.workers import WorkerSpec, chunk_tasks, decide_in_workers

    spec = WorkerSpec(
        campaign_path=str(campaign.path),
        benefits_dir=str(campaign.benefits_dir),
        as_of=as_of,
        registry=ctx.registry,
        local=ctx.local,
        magda_overrides=dict(ctx.magda_overrides),
        state_dir=str(ctx.state_dir),
    )

    def on_fetch(number: int, stage: int, entities: int) -> None:
        if progress is not None:
            progress.fetched(stage, entities)

    for number, rows, stats in decide_in_workers(
        spec, chunk_tasks(numbers, target.chunk), workers, on_fetch
    ):
        paused = tripped(ctx, number, rows)
        if paused is not None:
            return paused
        _save(ctx, run_id, number, rows, stats, previous)
        stages.begin(len(rows))
        stages.end()
    return None


def finish(ctx: CampaignContext, campaign: Campaign, run_id: int, *, actor: str) -> RunView:
    """Close a run whose chunks are all stored: subjects that left the target, the summary,
    draft status — one transaction."""
    with ctx.factory() as session:
        run = store.get_run(session, run_id)
        if run is None:
            raise CampaignStateError(f"no campaign run {run_id}")
        if run.status != "running":
            return run
        missing = run.chunks_total - len(store.done_chunks(session, run_id))
        if missing:
            raise CampaignStateError(f"run {run_id} still has {missing} chunk(s) to decide")
        current = {s for (s,) in store.decision_rows(session, run_id, ["subject_pseudonym"])}
        ended: list[dict[str, Any]] = []
        for pseudonym, (outcome, band) in _previous_decisions(session, run.previous_run_id).items():
            if pseudonym not in current and outcome == "eligible":
                ended.append(
                    {
                        "subject_pseudonym": pseudonym,
                        "outcome": "absent",
                        "change": "ended",
                        "band": None,
                        "previous_band": band,
                        "outputs": {},
                        "conditions": {},
                        "facts_used": [],
                        "facts_missing": [],
                        "reasons": {"target": "no longer in the target population"},
                        "valid_until": None,
                        "at_least": {},
                        "missing": [],
                    }
                )
        store.add_decisions(session, run_id, ended)
        session.flush()
        summary = summarise(session, campaign, run)
        if ctx.reach is not None:
            decided = {
                pseudonym: outcome
                for pseudonym, outcome in store.decision_rows(
                    session, run_id, ["subject_pseudonym", "outcome"]
                )
                if outcome != "absent"
            }
            summary["reach"] = ctx.reach(
                campaign.benefit, campaign.spec.target, run.as_of, decided, ctx.pseudonymiser()
            )
        view = store.finish_run(session, run_id, summary)
        audit_run(
            session,
            campaign,
            run_id,
            actor=actor,
            outcome="campaign_run_draft",
            outcomes=summary["outcomes"],
            changes=summary["changes"],
        )
        session.commit()
        return view


def abandon(ctx: CampaignContext, campaign: Campaign, *, actor: str) -> RunView | None:
    """Give up the campaign's unfinished run (it issues nothing); None when there is none."""
    with ctx.factory() as session:
        running = store.running_run(session, campaign.name)
        if running is None:
            return None
        view = store.abandon_run(session, running.id)
        audit_run(session, campaign, running.id, actor=actor, outcome="campaign_run_abandoned")
        session.commit()
        return view
