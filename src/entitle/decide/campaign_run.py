"""A campaign run: select the target, decide it chunk by chunk, close it as a draft.

Resumable and idempotent: a run killed at any moment (even SIGKILL) is continued by the next
`run_campaign` of the same campaign, which skips the chunks already stored; decisions of a chunk
are written with its checkpoint in one transaction, so a chunk is stored entirely or not at all.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from entitle.decide.campaign_context import CampaignContext, audit_run
from entitle.decide.campaign_def import Campaign
from entitle.decide.campaign_evaluate import decide_chunk_rows, unknown_rows, with_change
from entitle.decide.campaign_figures import summarise
from entitle.decide.campaign_progress import RunProgress, Stages, stage_labels
from entitle.decide.campaign_sources import RegisterExtract, Target, read_dataset, select_target
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
    rows = store.decision_rows(session, run_id, ["subject_pseudonym", "outcome", "band"])
    return {s: (o, b) for s, o, b in rows}


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
) -> RunView:
    """Run (or resume) the campaign; returns the run, a `draft` when every chunk is done.

    `as_of` defaults to the unfinished run's date when there is one, else today. A running run
    of the campaign is resumed (for another `as_of`: `CampaignStateError`); its target must be
    unchanged (same subjects, same chunks). `max_chunks` stops after that many new chunks (the run
    stays `running`, to be resumed). `workers` > 1 decides chunks in that many processes (with
    the gateway; an injected `ctx.source` always runs in this process).
    """
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
    del extract
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
            session.commit()
    else:
        run = running
        if target.fingerprint() != run.fingerprint:
            raise CampaignStateError(
                f"the target population of run {run.id} changed since it started (register "
                f"extract or enrolments): abandon run {run.id} and start a new one"
            )
    with ctx.factory() as session:
        stored = store.chunk_stats(session, run.id)
        previous_rows = _previous_decisions(session, run.previous_run_id)
    done = {chunk["chunk"] for chunk in stored}
    stages = Stages([s for s, _ in stage_labels(benefit)], progress)
    if progress is not None:
        progress.start(stage_labels(benefit), target.size, sum(c["subjects"] for c in stored))
    pseudonymise = ctx.pseudonymiser()
    todo = [n for n in range(target.total_chunks) if n not in done]
    if max_chunks is not None:
        todo = todo[:max_chunks]
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
    if regular and workers > 1 and ctx.source is None and len(regular) > 1:
        _run_in_workers(
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
                _save(ctx, run.id, number, rows, stats, previous_rows)
                stages.end()
        finally:
            ctx.close_source(source)
    if max_chunks is not None and len(done) + len(todo) < target.total_chunks:
        with ctx.factory() as session:
            still = store.get_run(session, run.id)
        assert still is not None
        return still
    return finish(ctx, campaign, run.id, actor=actor)


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
) -> None:
    from entitle.decide.campaign_workers import WorkerSpec, chunk_tasks, decide_in_workers

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
        _save(ctx, run_id, number, rows, stats, previous)
        stages.begin(len(rows))
        stages.end()


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
                    }
                )
        store.add_decisions(session, run_id, ended)
        session.flush()
        summary = summarise(session, campaign, run)
        if ctx.truth is not None:
            from entitle.decide.campaign_reach import reach_vs_truth

            summary["reach"] = reach_vs_truth(
                session, campaign, run, ctx.truth, ctx.pseudonymiser()
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
