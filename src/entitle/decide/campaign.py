"""Proactive campaigns: target population → staged bulk fetching → decisions → diff → outputs.

    run_campaign   decide every subject of the target, chunk by chunk (each chunk's decisions and
                   its checkpoint in one transaction), compare with the previous approved run
                   (new / continued / changed band / ended), end as a *draft*
    approve_run    a campaign manager approves (four eyes: two different ones) or `reject_run`s
    issue_run      only for an approved run: letters (one merged PDF) and billing lists
    simulate       what-if with changed parameters: evaluates, compares, stores and issues nothing
    run_figures    everything the dashboard shows about a run

Resumable and idempotent: a run killed at any moment (even SIGKILL) is continued by the next
`run_campaign` of the same campaign, which skips the chunks already stored; decisions of a chunk
are written with its checkpoint in one transaction, so a chunk is stored entirely or not at all.
Issuing inserts letters under a unique (campaign, period, subject, kind) key before any file is
written, and files are written deterministically under a temporary name and then moved: issuing
again after a crash writes the same files and never a second letter or coupon.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, Protocol, cast

import polars as pl
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from sqlalchemy.orm import Session, sessionmaker

from entitle.decide.campaign_def import Campaign, CampaignError
from entitle.decide.campaign_sources import (
    NOT_IN_REGISTER,
    CachingPseudonymiser,
    ChunkProvider,
    FactSource,
    GatewaySource,
    LineAccessLog,
    RegisterExtract,
    Target,
    pupils_table,
    read_dataset,
    select_target,
)
from entitle.decide.coupons import coupon_key, make_code
from entitle.decide.exports import BillingRow, write_billing_lists
from entitle.decide.letters import Letter, date_nl, euro, letter_pdf, write_letters
from entitle.rules.catalogue import default_catalogue
from entitle.rules.columnar import Population, evaluate_population, fact_names
from entitle.rules.expr import T
from entitle.rules.loader import _bands, _scalar
from entitle.rules.model import Benefit, DatedValue
from entitle.rules.plan import facts_in, plan_benefit
from entitle.sources.access import Pseudonymiser
from entitle.store import audit
from entitle.store import campaigns as store
from entitle.store.campaigns import CampaignStateError, RunView
from entitle.store.decisions import redact

__all__ = [
    "CampaignContext",
    "CampaignError",
    "CampaignStateError",
    "RunProgress",
    "WhatIf",
    "approve_run",
    "issue_run",
    "reject_run",
    "run_campaign",
    "run_figures",
    "simulate",
]

OUTCOMES = ("eligible", "not_eligible", "undetermined")


# --------------------------------------------------------------------------- context


@dataclass
class CampaignContext:
    """Where a campaign reads, fetches, stores and writes. `from_env` fills it from settings."""

    factory: sessionmaker[Session]
    register: Path  # the register extract: persons.parquet + households.parquet
    state_dir: Path  # keys: pseudonym.key, coupon.key; the access log
    output_dir: Path  # letters and lists: <output_dir>/<campaign>/run-<id>/
    registry: str | None = None  # MAGDA / simulator URL (default: the MAGDA settings')
    local: str | None = None  # local datasets: folder or URL (default: the registry's /local)
    magda_overrides: dict[str, Any] = field(default_factory=dict)
    source: FactSource | None = None  # injected fact source (tests, offline); else the gateway
    truth: Path | None = None  # a synthetic city: measure reach against its ground truth
    today: Callable[[], date] = date.today

    def pseudonymiser(self) -> Pseudonymiser:
        path = self.state_dir / "pseudonym.key"
        Pseudonymiser.from_key_file(path)  # creates the key when absent
        return CachingPseudonymiser(bytes.fromhex(path.read_text(encoding="utf-8").strip()))

    def coupon_key(self) -> bytes:
        return coupon_key(self.state_dir / "coupon.key")

    def registry_url(self) -> str:
        from entitle.sources.magda.settings import load_settings

        overrides = dict(self.magda_overrides)
        if self.registry:
            overrides["base_url"] = self.registry
        return load_settings(**overrides).base_url

    def fact_source(self) -> FactSource:
        if self.source is not None:
            return self.source
        from entitle.decide.wiring import local_source
        from entitle.sources.magda.settings import load_settings

        overrides = dict(self.magda_overrides)
        if self.registry:
            overrides["base_url"] = self.registry
        settings = load_settings(**overrides)
        return GatewaySource(
            settings=settings,
            local=local_source(self.local, settings.base_url),
            log=LineAccessLog(self.state_dir / "access.jsonl"),
            pseudonymise=self.pseudonymiser(),
        )

    def close_source(self, source: FactSource) -> None:
        if source is not self.source:
            source.close()

    @classmethod
    def from_env(
        cls,
        *,
        database_url: str | None = None,
        register: Path | None = None,
        registry: str | None = None,
        local: str | None = None,
        output_dir: Path | None = None,
        truth: Path | None = None,
    ) -> CampaignContext:
        """From the environment: ENTITLE_DATABASE_URL, ENTITLE_DATA_DIR, ENTITLE_REGISTER_EXTRACT
        (default <data_dir>/register), ENTITLE_MAGDA_* (registry), ENTITLE_LOCAL_DATASETS,
        ENTITLE_CAMPAIGN_OUTPUT (default <data_dir>/campaigns), ENTITLE_TRUTH (synthetic city)."""
        from entitle.decide.wiring import data_dir
        from entitle.store.db import make_engine, session_factory

        state = data_dir()
        env_register = os.environ.get("ENTITLE_REGISTER_EXTRACT")
        env_output = os.environ.get("ENTITLE_CAMPAIGN_OUTPUT")
        env_truth = os.environ.get("ENTITLE_TRUTH")
        return cls(
            factory=session_factory(make_engine(database_url)),
            register=register or (Path(env_register) if env_register else state / "register"),
            state_dir=state,
            output_dir=output_dir or (Path(env_output) if env_output else state / "campaigns"),
            registry=registry,
            local=local or os.environ.get("ENTITLE_LOCAL_DATASETS"),
            truth=truth or (Path(env_truth) if env_truth else None),
        )


# --------------------------------------------------------------------------- progress


class RunProgress(Protocol):
    """What a run reports as it goes (the CLI draws a Rich progress bar per stage)."""

    def start(self, stages: Sequence[tuple[int, str]], subjects: int, done: int) -> None: ...

    def stage_done(self, stage: int, subjects: int) -> None: ...

    def fetched(self, stage: int, entities: int) -> None: ...

    def chunk_done(self, subjects: int) -> None: ...


class _Stages:
    """Per chunk: a stage counts as passed once a later stage is fetched or the chunk ends."""

    def __init__(self, stages: Sequence[int], progress: RunProgress | None) -> None:
        self.stages = list(stages)
        self.progress = progress
        self.passed: set[int] = set()
        self.size = 0

    def begin(self, size: int) -> None:
        self.passed = set()
        self.size = size

    def on_fetch(self, stage: int, entities: int) -> None:
        if self.progress is None:
            return
        self.progress.fetched(stage, entities)
        for earlier in self.stages:
            if earlier < stage and earlier not in self.passed:
                self.passed.add(earlier)
                self.progress.stage_done(earlier, self.size)

    def end(self) -> None:
        if self.progress is None:
            return
        for stage in self.stages:
            if stage not in self.passed:
                self.passed.add(stage)
                self.progress.stage_done(stage, self.size)
        self.progress.chunk_done(self.size)


def stage_labels(benefit: Benefit) -> list[tuple[int, str]]:
    plan = plan_benefit(benefit, default_catalogue())
    return [(s.index, ", ".join(f.name for f in s.facts)) for s in plan.stages]


# --------------------------------------------------------------------------- evaluation


def _band(campaign: Campaign, outputs: dict[str, Any]) -> str | None:
    name = campaign.spec.band
    if name is None or name not in outputs or outputs[name] is None:
        return None
    value = outputs[name]
    if campaign.benefit.outputs[name].type == T.MONEY:
        return f"{float(value):.2f}"
    return str(value)


def _change(outcome: str, band: str | None, previous: tuple[str, str | None] | None) -> str:
    was_eligible = previous is not None and previous[0] == "eligible"
    if outcome == "eligible":
        if not was_eligible:
            return "new"
        return "continued" if previous is not None and previous[1] == band else "changed"
    if was_eligible:
        return "ended" if outcome in ("not_eligible", "absent") else "unknown"
    return "none"


def _subject_entities(
    kind: str, subjects: Sequence[str], persons: pl.DataFrame
) -> dict[str, list[str]]:
    """Entity id (household or person) → the subjects whose decision may read it."""
    household_of = dict(
        zip(persons["person_id"].to_list(), persons["household_id"].to_list(), strict=True)
    )
    out: dict[str, list[str]] = defaultdict(list)
    if kind == "household":
        for subject in subjects:
            out[subject].append(subject)
        for person, household in household_of.items():
            out[person].append(household)
        return out
    by_household: dict[str, list[str]] = defaultdict(list)
    for subject in subjects:
        by_household[household_of[subject]].append(subject)
    for person, household in household_of.items():
        out[person].extend(by_household.get(household, ()))
    for household, members in by_household.items():
        out[household].extend(members)
    return out


def _decide_chunk(
    campaign: Campaign,
    as_of: date,
    subjects: list[str],
    persons: pl.DataFrame,
    households: pl.DataFrame,
    provider: ChunkProvider,
    benefit: Benefit | None = None,
) -> pl.DataFrame:
    population = Population(
        persons.select("person_id", "household_id"), households.select("household_id"), subjects
    )
    return evaluate_population(benefit or campaign.benefit, population, as_of, provider)


def _rows_of(
    campaign: Campaign,
    frame: pl.DataFrame,
    reasons: dict[tuple[str, str], str],
    entities: dict[str, list[str]],
    pseudonymise: Pseudonymiser,
) -> list[dict[str, Any]]:
    """Decision rows to store (the change against the previous run is added by the caller)."""
    benefit = campaign.benefit
    names: dict[int, list[str]] = {}

    def decode(mask: int) -> list[str]:
        if mask not in names:
            names[mask] = fact_names(benefit, mask)
        return names[mask]

    by_subject: dict[str, dict[str, str]] = defaultdict(dict)
    for (entity, fact), text in reasons.items():
        for subject in entities.get(entity, ()):
            by_subject[subject].setdefault(fact, text)
    rows = []
    for row in frame.iter_rows(named=True):
        outcome = row["outcome"]
        outputs = (
            {name: row[f"out_{name}"] for name in benefit.outputs} if outcome == "eligible" else {}
        )
        missing = decode(row["facts_missing"])
        why = by_subject.get(row["subject_id"], {})
        rows.append(
            {
                "subject_pseudonym": pseudonymise(row["subject_id"]),
                "outcome": outcome,
                "band": _band(campaign, outputs),
                "outputs": outputs,
                "conditions": {name: row[f"cond_{name}"] for name in benefit.conditions},
                "facts_used": decode(row["facts_used"]),
                "facts_missing": missing,
                "reasons": {f: redact(why[f], 200) for f in missing if f in why},
                "valid_until": row["valid_until"],
            }
        )
    return rows


def decide_chunk_rows(
    campaign: Campaign,
    as_of: date,
    subjects: list[str],
    persons: pl.DataFrame,
    households: pl.DataFrame,
    source: FactSource,
    pseudonymise: Pseudonymiser,
    on_fetch: Callable[[int, int], None] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Decide one chunk through the fact source: (decision rows, fetch statistics)."""
    started = time.perf_counter()
    provider = source.open_chunk(
        campaign.benefit, as_of, persons, households, on_fetch, campaign.spec.facts_from_register
    )
    frame = _decide_chunk(campaign, as_of, subjects, persons, households, provider)
    entities = _subject_entities(campaign.benefit.subject, subjects, persons)
    rows = _rows_of(campaign, frame, provider.reasons(), entities, pseudonymise)
    stats = provider.stats()
    stats["seconds"] = round(time.perf_counter() - started, 3)
    return rows, stats


def _with_change(
    rows: list[dict[str, Any]], previous: dict[str, tuple[str, str | None]]
) -> list[dict[str, Any]]:
    for row in rows:
        before = previous.get(row["subject_pseudonym"])
        row["change"] = _change(row["outcome"], row["band"], before)
        row["previous_band"] = before[1] if before else None
    return rows


def _unknown_rows(
    campaign: Campaign, subjects: Sequence[str], pseudonymise: Pseudonymiser
) -> list[dict[str, Any]]:
    """Target subjects missing from the register extract: no household, so undetermined."""
    return [
        {
            "subject_pseudonym": pseudonymise(subject),
            "outcome": "undetermined",
            "band": None,
            "outputs": {},
            "conditions": {name: None for name in campaign.benefit.conditions},
            "facts_used": [],
            "facts_missing": ["household.members"],
            "reasons": {"household.members": NOT_IN_REGISTER},
            "valid_until": None,
        }
        for subject in subjects
    ]


# --------------------------------------------------------------------------- the run


def _load_target(
    ctx: CampaignContext, campaign: Campaign, as_of: date, chunk_size: int | None
) -> tuple[RegisterExtract, Target]:
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
    extract, target = _load_target(ctx, campaign, when, chunk_size)
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
            audit.append(
                session,
                kind="admin",
                actor=actor,
                purpose=benefit.purpose,
                subject=None,
                outcome="campaign_run_started",
                details={"campaign": campaign.name, "run": run.id, "as_of": when.isoformat()},
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
    stages = _Stages([s for s, _ in stage_labels(benefit)], progress)
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
            _unknown_rows(campaign, target.unknown, pseudonymise),
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
            session, run_id, number, decisions=_with_change(rows, previous), stats=stats
        )
        session.commit()


def _run_in_workers(
    ctx: CampaignContext,
    campaign: Campaign,
    as_of: date,
    target: Target,
    numbers: list[int],
    workers: int,
    stages: _Stages,
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
        audit.append(
            session,
            kind="admin",
            actor=actor,
            purpose=campaign.benefit.purpose,
            subject=None,
            outcome="campaign_run_draft",
            details={
                "campaign": campaign.name,
                "run": run_id,
                "outcomes": summary["outcomes"],
                "changes": summary["changes"],
            },
        )
        session.commit()
        return view


def undecided_conditions(
    benefit: Benefit, conditions: dict[str, Any], facts_used: Iterable[str]
) -> list[str]:
    """Conditions unknown by the rule itself (e.g. a reference address, a shared residence),
    which an officer must settle: unknown, and reading a fact that was fetched (call it only
    when no fact is missing)."""
    used = set(facts_used)
    out = []
    for name, value in conditions.items():
        condition = benefit.conditions.get(name)
        if value is not None or condition is None:
            continue
        facts = {ref.target for ref in facts_in(condition.node)}
        if facts & used:
            out.append(name)
    return out


def _reason_key(benefit: Benefit, row: Any) -> list[str]:
    missing: list[str] = list(row.facts_missing or [])
    if missing:
        keys = []
        for fact in missing:
            why = (row.reasons or {}).get(fact)
            kind = why.split(":", 1)[0] if why else "no data"
            keys.append(f"{fact} ({kind})")
        return keys
    unknown = undecided_conditions(benefit, row.conditions or {}, row.facts_used or [])
    return [f"condition {name}" for name in unknown] or ["outputs unknown"]


def summarise(session: Session, campaign: Campaign, run: RunView) -> dict[str, Any]:
    """The run's figures: outcomes, changes, bands and their cost, undetermined reasons,
    fetch statistics, and the letters approval would issue."""
    rows = store.decision_rows(
        session,
        run.id,
        [
            "subject_pseudonym",
            "outcome",
            "change",
            "band",
            "outputs",
            "conditions",
            "facts_missing",
            "facts_used",
            "reasons",
        ],
    )
    outcomes: Counter[str] = Counter()
    changes: Counter[str] = Counter()
    bands: Counter[str] = Counter()
    cost_by_band: dict[str, float] = defaultdict(float)
    reasons: Counter[str] = Counter()
    for row in rows:
        outcomes[row.outcome] += 1
        changes[row.change] += 1
        if row.outcome == "eligible":
            band = row.band or "-"
            bands[band] += 1
            cost_by_band[band] += _cost(campaign, row.outputs or {}, row.band)
        elif row.outcome == "undetermined":
            for key in _reason_key(campaign.benefit, row):
                reasons[key] += 1
    chunks = store.chunk_stats(session, run.id)
    fetched: Counter[str] = Counter()
    questions = 0
    seconds = 0.0
    for chunk in chunks:
        fetched.update(chunk["stats"].get("fetched", {}))
        questions += int(chunk["stats"].get("questions", 0))
        seconds += float(chunk["stats"].get("seconds", 0.0))
    due = letters_due(session, campaign, run, rows)
    return {
        "subjects": sum(outcomes[o] for o in OUTCOMES),
        "outcomes": {o: outcomes[o] for o in (*OUTCOMES, "absent") if outcomes[o] or o in OUTCOMES},
        "changes": {c: changes[c] for c in store.CHANGES},
        "bands": dict(sorted(bands.items())),
        "cost_by_band": {b: round(v, 2) for b, v in sorted(cost_by_band.items())},
        "cost": round(sum(cost_by_band.values()), 2),
        "undetermined_reasons": dict(reasons.most_common(20)),
        "fetched": dict(sorted(fetched.items())),
        "questions": questions,
        "decide_seconds": round(seconds, 1),
        "letters_due": due,
    }


def _cost(campaign: Campaign, outputs: dict[str, Any], band: str | None) -> float:
    cost = campaign.spec.cost
    if cost.outputs:
        return float(sum(float(outputs.get(name) or 0) for name in cost.outputs))
    if cost.per_band and band is not None:
        return float(cost.per_band.get(band, 0.0))
    return 0.0


def _due(
    campaign: Campaign, rows: Iterable[Any], issued: set[tuple[str, str]]
) -> list[tuple[str, Any]]:
    """(kind, decision row) of the letters approving this run would issue."""
    letters = campaign.spec.outputs.letters
    if not letters:
        return []
    out = []
    for row in rows:
        pseudonym = row.subject_pseudonym
        if row.outcome == "eligible" and (pseudonym, "coupon") not in issued:
            out.append(("coupon", row))
        elif (
            row.outcome == "undetermined"
            and letters.invitation
            and (pseudonym, "coupon") not in issued
            and (pseudonym, "invitation") not in issued
        ):
            out.append(("invitation", row))
    return out


def letters_due(
    session: Session, campaign: Campaign, run: RunView, rows: Sequence[Any]
) -> dict[str, int]:
    issued = store.letter_keys(session, campaign.name, run.period)
    counts = Counter(kind for kind, _ in _due(campaign, rows, issued))
    return {"coupon": counts["coupon"], "invitation": counts["invitation"]}


def abandon(ctx: CampaignContext, campaign: Campaign, *, actor: str) -> RunView | None:
    """Give up the campaign's unfinished run (it issues nothing); None when there is none."""
    with ctx.factory() as session:
        running = store.running_run(session, campaign.name)
        if running is None:
            return None
        view = store.abandon_run(session, running.id)
        audit.append(
            session,
            kind="admin",
            actor=actor,
            purpose=campaign.benefit.purpose,
            subject=None,
            outcome="campaign_run_abandoned",
            details={"campaign": campaign.name, "run": running.id},
        )
        session.commit()
        return view


# --------------------------------------------------------------------------- review


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
    view = store.record_verdict(
        session,
        run_id,
        actor=actor,
        verdict=verdict,
        note=note,
        now=now,
    )
    audit.append(
        session,
        kind="admin",
        actor=actor,
        purpose=campaign.benefit.purpose,
        subject=None,
        outcome=f"campaign_{verdict}",
        details={
            "campaign": campaign.name,
            "run": run_id,
            "status": view.status,
            "approvals": len(view.approvals),
            "approvals_required": view.approvals_required,
            "note": note[:300],
        },
        now=now,
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


# --------------------------------------------------------------------------- issuing


@dataclass(frozen=True)
class Addressee:
    subject_id: str
    name: str
    first_name: str
    street: str
    postcode: str
    municipality: str

    def lines(self) -> tuple[str, ...]:
        return (self.name, self.street, f"{self.postcode} {self.municipality}".strip())


def addressees(
    campaign: Campaign, extract: RegisterExtract, pseudonymise: Pseudonymiser
) -> dict[str, Addressee]:
    """Pseudonym → who a letter about that subject goes to (the reference person of a
    household, or the person), with the address in the register extract."""
    letters = campaign.spec.outputs.letters
    municipality = letters.municipality_name if letters else ""
    persons = extract.persons
    if campaign.benefit.subject == "household":
        frame = extract.households.join(
            persons.select(
                pl.col("person_id").alias("reference_person_id"), "first_name", "last_name"
            ),
            on="reference_person_id",
            how="inner",
        ).select(
            pl.col("household_id").alias("subject_id"),
            "first_name",
            "last_name",
            "street",
            "house_number",
            "postcode",
        )
    else:
        frame = persons.select(
            pl.col("person_id").alias("subject_id"),
            "first_name",
            "last_name",
            "street",
            "house_number",
            "postcode",
        )
    out: dict[str, Addressee] = {}
    for subject, first, last, street, number, postcode in frame.iter_rows():
        if not street:
            continue
        out[pseudonymise(subject)] = Addressee(
            subject_id=subject,
            name=f"{first} {last}".strip(),
            first_name=first or "",
            street=f"{street} {number or ''}".strip(),
            postcode=postcode or "",
            municipality=municipality,
        )
    return out


def _values(campaign: Campaign, outputs: dict[str, Any]) -> dict[str, str]:
    out = {}
    for name, spec in campaign.benefit.outputs.items():
        value = outputs.get(name)
        out[name] = euro(value) if spec.type == T.MONEY else ("" if value is None else str(value))
    return out


def build_letter(
    campaign: Campaign,
    letter: store.LetterView,
    decision: Any,
    to: Addressee,
    *,
    on: date,
) -> Letter:
    """The text of one letter in plain Dutch (no income or other raw value is ever quoted)."""
    spec = campaign.spec.outputs.letters
    assert spec
    benefit = campaign.benefit
    valid_until = letter.valid_until
    sender = tuple(spec.sender) or (benefit.authority,)
    place = f"{spec.municipality_name or benefit.authority}, {date_nl(on)}"
    reference = f"Kenmerk: {campaign.name} {letter.period} / {letter.seq}"
    greeting = f"Beste {to.name},"
    footer = (
        f"{benefit.title.get('nl', benefit.id)}. Deze brief werd automatisch opgemaakt op basis "
        "van gegevens uit het Rijksregister, de Kruispuntbank van de Sociale Zekerheid en de stad."
    )
    if letter.kind == "coupon":
        coupon = spec.coupon
        fields = {
            **_values(campaign, letter.value),
            "year": str(decision.valid_until.year if decision.valid_until else on.year),
            "period": letter.period,
            "valid_until": date_nl(valid_until) if valid_until else "",
            "code": letter.code or "",
        }
        what = coupon.what_by_band.get(letter.band or "", coupon.what) or coupon.what
        why = tuple(
            benefit.conditions[name].text.get("nl", name)
            for name in coupon.why_conditions
            if (decision.conditions or {}).get(name) is True
        )
        blocks: list[Any] = [("p", what.format(**fields))]
        if why:
            blocks += [("p", coupon.why_intro), ("ul", why)]
        blocks += [
            ("h", "Hoe gebruikt u dit?"),
            ("p", coupon.how.format(**fields)),
            ("h", "Niet akkoord?"),
            ("p", coupon.objection.format(**fields)),
        ]
        return Letter(
            sender=sender,
            address=to.lines(),
            place_date=place,
            subject=coupon.subject.format(**fields),
            greeting=greeting,
            blocks=tuple(blocks),
            code=letter.code,
            qr=coupon.verify_url.format(code=letter.code or ""),
            footer=footer,
            reference=reference,
        )
    invitation = spec.invitation
    assert invitation
    bring: list[str] = []
    for fact in decision.facts_missing or []:
        item = invitation.bring.get(fact)
        if item and item not in bring:
            bring.append(item)
    if not decision.facts_missing:
        for name in undecided_conditions(
            benefit, decision.conditions or {}, decision.facts_used or []
        ):
            item = invitation.bring.get(name)
            if item and item not in bring:
                bring.append(item)
    bring += [item for item in invitation.always_bring if item not in bring]
    blocks = [("p", invitation.body)]
    if bring:
        blocks += [("h", invitation.bring_intro), ("ul", tuple(bring))]
    if invitation.objection:
        blocks.append(("p", invitation.objection))
    return Letter(
        sender=sender,
        address=to.lines(),
        place_date=place,
        subject=invitation.subject,
        greeting=greeting,
        blocks=tuple(blocks),
        footer=footer,
        reference=reference,
    )


def _run_folder(ctx: CampaignContext, run: RunView) -> Path:
    return ctx.output_dir / run.campaign / f"run-{run.id}"


@dataclass(frozen=True)
class IssueResult:
    run: RunView
    letters: dict[str, int]  # issued by this run, per kind
    new_letters: int  # inserted by this call (0 when issuing again)
    files: list[Path]
    pages: int
    seconds: float
    skipped: int  # due, but no address in the register extract


def issue_run(ctx: CampaignContext, campaign: Campaign, run_id: int, *, actor: str) -> IssueResult:
    """Issue an approved run: letters (merged PDF) and billing lists. Idempotent."""
    started = time.perf_counter()
    with ctx.factory() as session:
        run = store.get_run(session, run_id)
        if run is None or run.campaign != campaign.name:
            raise CampaignStateError(f"no run {run_id} of campaign {campaign.name}")
        if run.status not in ("approved", "issued"):
            raise CampaignStateError(
                f"run {run_id} is {run.status}: only an approved run issues letters and lists"
            )
    pseudonymise = ctx.pseudonymiser()
    extract = RegisterExtract.load(ctx.register)
    folder = _run_folder(ctx, run)
    files: list[Path] = []
    skipped = 0
    new = 0
    pages = 0
    on = (run.decided or datetime.now(UTC)).date()
    with ctx.factory() as session:
        decisions = store.decision_rows(session, run_id)
    by_pseudonym = {row.subject_pseudonym: row for row in decisions}
    if campaign.spec.outputs.letters:
        to = addressees(campaign, extract, pseudonymise)
        key = ctx.coupon_key()
        with ctx.factory() as session:
            issued = store.letter_keys(session, campaign.name, run.period)
            due = _due(campaign, decisions, issued)
            existing = store.letters_of_run(session, run_id)
            seq = max((letter.seq for letter in existing), default=0)
            rows = []
            order = {"coupon": 0, "invitation": 1}
            ready = []
            for kind, row in due:
                addressee = to.get(row.subject_pseudonym)
                if addressee is None:
                    skipped += 1
                    continue
                ready.append(
                    (
                        order[kind],
                        addressee.postcode,
                        addressee.street,
                        addressee.name,
                        row.subject_pseudonym,
                        kind,
                        row,
                    )
                )
            ready.sort()
            moment = datetime.now(UTC)
            for _, _, _, _, pseudonym, kind, row in ready:
                seq += 1
                rows.append(
                    {
                        "run_id": run_id,
                        "seq": seq,
                        "campaign": campaign.name,
                        "period": run.period,
                        "subject_pseudonym": pseudonym,
                        "kind": kind,
                        "code": make_code(key, campaign.name, run.period, pseudonym)
                        if kind == "coupon"
                        else None,
                        "band": row.band if kind == "coupon" else None,
                        "value": dict(row.outputs or {}) if kind == "coupon" else {},
                        "valid_until": row.valid_until if kind == "coupon" else None,
                        "issued": moment,
                    }
                )
            new = store.issue_letters(session, rows)
            session.commit()
        with ctx.factory() as session:
            letters = store.letters_of_run(session, run_id)

        def generate() -> Iterable[Letter]:
            for letter in letters:
                addressee = to.get(letter.subject_pseudonym)
                decision = by_pseudonym.get(letter.subject_pseudonym)
                if addressee is None or decision is None:
                    continue
                yield build_letter(campaign, letter, decision, addressee, on=on)

        path = folder / "letters.pdf"
        _, pages = write_letters(
            generate(), path, title=f"{campaign.spec.title.get('nl', campaign.name)} {run.period}"
        )
        files.append(path)
    lists = campaign.spec.outputs.billing_lists
    if lists:
        dataset = read_dataset(ctx.local, ctx.registry_url(), lists.dataset)
        rows_out = billing_rows(campaign, run, decisions, dataset, extract, pseudonymise)
        stamp = datetime.combine(run.as_of, datetime.min.time())
        files += write_billing_lists(
            rows_out, folder / "billing", label=f"Sociaal tarief {run.period}", stamp=stamp
        )
    with ctx.factory() as session:
        counts = store.letter_counts(session, run_id)
        outputs = {
            "folder": str(folder),
            "files": [str(p.relative_to(folder)) for p in files],
            "letters": counts,
            "pages": pages,
            "skipped_no_address": skipped,
        }
        view, first = store.mark_issued(session, run_id, outputs)
        if first:
            audit.append(
                session,
                kind="export",
                actor=actor,
                purpose=campaign.benefit.purpose,
                subject=None,
                outcome="campaign_issued",
                details={
                    "campaign": campaign.name,
                    "run": run_id,
                    "letters": counts,
                    "files": len(files),
                },
            )
        session.commit()
    return IssueResult(
        view, counts, new, files, pages, round(time.perf_counter() - started, 3), skipped
    )


def billing_rows(
    campaign: Campaign,
    run: RunView,
    decisions: Sequence[Any],
    dataset: pl.DataFrame,
    extract: RegisterExtract,
    pseudonymise: Pseudonymiser,
) -> list[BillingRow]:
    """Per school: the pupils with a social tariff, their class, category and validity."""
    band_name = campaign.spec.band or next(iter(campaign.benefit.outputs))
    eligible = {
        row.subject_pseudonym: ((row.outputs or {}).get(band_name), row.valid_until)
        for row in decisions
        if row.outcome == "eligible"
    }
    rows = pupils_table(dataset, run.as_of)
    names = dict(
        zip(
            extract.persons["person_id"].to_list(),
            zip(
                extract.persons["last_name"].to_list(),
                extract.persons["first_name"].to_list(),
                strict=True,
            ),
            strict=True,
        )
    )
    out = []
    pseudonyms: dict[str, str] = {}
    for record in rows.iter_rows(named=True):
        person = str(record["person_id"])
        pseudonym = pseudonyms.get(person) or pseudonymise(person)
        pseudonyms[person] = pseudonym
        if pseudonym not in eligible:
            continue
        category, valid_until = eligible[pseudonym]
        last, first = names.get(person, ("", ""))
        out.append(
            BillingRow(
                school_id=str(record.get("school_id") or ""),
                school_name=str(record.get("school_name") or ""),
                last_name=last or "",
                first_name=first or "",
                class_name=str(record.get("class") or ""),
                category=str(category),
                valid_until=valid_until,
            )
        )
    return out


def render_letter(ctx: CampaignContext, campaign: Campaign, run_id: int, seq: int) -> bytes:
    """One issued letter as its own PDF (to show or send again); KeyError if there is none."""
    with ctx.factory() as session:
        run = store.get_run(session, run_id)
        letters = [x for x in store.letters_of_run(session, run_id) if x.seq == seq]
        decisions = {
            r.subject_pseudonym: r
            for r in store.decision_rows(session, run_id)
            if letters and r.subject_pseudonym == letters[0].subject_pseudonym
        }
    if run is None or not letters:
        raise KeyError(f"run {run_id} has no letter {seq}")
    letter = letters[0]
    to = addressees(campaign, RegisterExtract.load(ctx.register), ctx.pseudonymiser())
    addressee = to.get(letter.subject_pseudonym)
    if addressee is None:
        raise KeyError(f"letter {seq}: the addressee is no longer in the register extract")
    on = (run.decided or datetime.now(UTC)).date()
    return letter_pdf(
        build_letter(campaign, letter, decisions[letter.subject_pseudonym], addressee, on=on)
    )


# --------------------------------------------------------------------------- what-if


def parse_overrides(benefit: Benefit, settings: Sequence[str]) -> dict[str, Any]:
    """`PARAM=VALUE` → the parameter's internal value (money in cents; tables and bands in
    YAML flow style, e.g. `amount_by_size={1: 50, 2: 70}`)."""
    out: dict[str, Any] = {}
    for setting in settings:
        name, sep, text = setting.partition("=")
        name = name.strip()
        if not sep or not name:
            raise CampaignError(f"--set {setting!r}: write PARAM=VALUE")
        parameter = benefit.parameters.get(name)
        if parameter is None:
            known = ", ".join(sorted(benefit.parameters))
            raise CampaignError(f"{benefit.id} has no parameter {name!r} (parameters: {known})")
        try:
            raw = YAML(typ="safe").load(text)
        except YAMLError as exc:
            raise CampaignError(f"--set {name}: {exc}") from None
        try:
            if parameter.kind == "table":
                if not isinstance(raw, dict) or not raw:
                    raise ValueError("a table is a mapping, e.g. {1: 50, 2: 70}")
                assert parameter.key is not None
                value: Any = {
                    _scalar(parameter.key, k): _scalar(parameter.type, v) for k, v in raw.items()
                }
            elif parameter.kind == "bands":
                value = _bands(parameter.type, raw)
            else:
                value = _scalar(parameter.type, raw)
        except ValueError as exc:
            raise CampaignError(f"--set {name}: {exc}") from None
        out[name] = value
    return out


def with_parameters(benefit: Benefit, values: dict[str, Any]) -> Benefit:
    """A copy of the benefit where these parameters have one value, in force on every date."""
    parameters = dict(benefit.parameters)
    for name, value in values.items():
        parameters[name] = replace(parameters[name], values=(DatedValue(date.min, None, value),))
    return replace(benefit, parameters=parameters, compiled={})


@dataclass
class WhatIf:
    """Baseline and changed parameters on the same facts: who would be reached, at what cost."""

    campaign: str
    as_of: date
    overrides: dict[str, str]
    subjects: int
    baseline: dict[str, int]  # outcome -> count
    variant: dict[str, int]
    transitions: dict[str, int]  # "baseline→variant" -> count (only changes)
    bands: dict[str, tuple[int, int]]  # band -> (baseline count, variant count), eligible only
    cost: dict[str, tuple[float, float]]  # band -> (baseline, variant)
    questions: int

    @property
    def reached_difference(self) -> int:
        return self.variant.get("eligible", 0) - self.baseline.get("eligible", 0)

    @property
    def cost_difference(self) -> float:
        return round(
            sum(v for _, v in self.cost.values()) - sum(b for b, _ in self.cost.values()), 2
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "as_of": self.as_of.isoformat(),
            "overrides": self.overrides,
            "subjects": self.subjects,
            "baseline": self.baseline,
            "variant": self.variant,
            "reached_difference": self.reached_difference,
            "transitions": self.transitions,
            "bands": {b: {"baseline": x, "variant": y} for b, (x, y) in self.bands.items()},
            "cost": {b: {"baseline": x, "variant": y} for b, (x, y) in self.cost.items()},
            "cost_difference": self.cost_difference,
            "questions": self.questions,
        }


def simulate(
    ctx: CampaignContext,
    campaign: Campaign,
    settings: Sequence[str],
    as_of: date | None = None,
    *,
    progress: RunProgress | None = None,
    chunk_size: int | None = None,
) -> WhatIf:
    """Evaluate the campaign with changed parameters next to the parameters in force, on the
    same facts (one fetch per fact, shared by both), and compare. Writes nothing to the
    database and issues nothing."""
    when = as_of or ctx.today()
    variant_benefit = with_parameters(campaign.benefit, parse_overrides(campaign.benefit, settings))
    _, target = _load_target(ctx, campaign, when, chunk_size)
    stages = _Stages([s for s, _ in stage_labels(campaign.benefit)], progress)
    if progress is not None:
        progress.start(stage_labels(campaign.benefit), target.size, 0)
    baseline: Counter[str] = Counter()
    variant: Counter[str] = Counter()
    transitions: Counter[str] = Counter()
    bands: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    cost: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    questions = 0
    source = ctx.fact_source()
    try:
        for number in range(target.chunks):
            subjects, persons, households = target.chunk(number)
            stages.begin(len(subjects))
            provider = source.open_chunk(
                campaign.benefit,
                when,
                persons,
                households,
                stages.on_fetch,
                campaign.spec.facts_from_register,
            )
            frames = [
                _decide_chunk(campaign, when, subjects, persons, households, provider, b)
                for b in (campaign.benefit, variant_benefit)
            ]
            questions += int(provider.stats().get("questions", 0))
            results = []
            for i, frame in enumerate(frames):
                counts = baseline if i == 0 else variant
                outcomes = frame["outcome"].to_list()
                counts.update(outcomes)
                for row in frame.filter(pl.col("outcome") == "eligible").iter_rows(named=True):
                    outputs = {name: row[f"out_{name}"] for name in campaign.benefit.outputs}
                    band = _band(campaign, outputs) or "-"
                    bands[band][i] += 1
                    cost[band][i] += _cost(campaign, outputs, band)
                results.append(outcomes)
            for before, after in zip(results[0], results[1], strict=True):
                if before != after:
                    transitions[f"{before}→{after}"] += 1
            stages.end()
        if target.unknown:
            baseline["undetermined"] += len(target.unknown)
            variant["undetermined"] += len(target.unknown)
    finally:
        ctx.close_source(source)
    return WhatIf(
        campaign=campaign.name,
        as_of=when,
        overrides=dict(s.split("=", 1) for s in settings),
        subjects=target.size,
        baseline={o: baseline[o] for o in OUTCOMES},
        variant={o: variant[o] for o in OUTCOMES},
        transitions=dict(sorted(transitions.items())),
        bands={b: (v[0], v[1]) for b, v in sorted(bands.items())},
        cost={b: (round(v[0], 2), round(v[1], 2)) for b, v in sorted(cost.items())},
        questions=questions,
    )


# --------------------------------------------------------------------------- dashboard


def run_figures(session: Session, run_id: int, *, sample: int = 10) -> dict[str, Any]:
    """Everything the campaign dashboard shows about one run, JSON-ready: the run (status,
    verdicts), counts by outcome and by change (new / continued / changed / ended), bands and
    cost, undetermined reasons, letters due and issued, fetch statistics, reach against the
    ground truth (synthetic city), and a sample of decisions with their reasons."""
    run = store.get_run(session, run_id)
    if run is None:
        raise KeyError(f"no campaign run {run_id}")
    summary = dict(run.summary or {})
    done = store.chunk_stats(session, run_id)
    figures: dict[str, Any] = {
        "run": run.to_dict(),
        "progress": {
            "chunks_done": len(done),
            "chunks_total": run.chunks_total,
            "subjects_done": sum(c["subjects"] for c in done),
            "subjects_total": run.subjects_total,
        },
        "outcomes": summary.get("outcomes", {}),
        "changes": summary.get("changes", {}),
        "bands": summary.get("bands", {}),
        "cost_by_band": summary.get("cost_by_band", {}),
        "cost": summary.get("cost"),
        "undetermined_reasons": summary.get("undetermined_reasons", {}),
        "letters_due": summary.get("letters_due", {}),
        "letters_issued": store.letter_counts(session, run_id),
        "fetched": summary.get("fetched", {}),
        "questions": summary.get("questions"),
        "reach": summary.get("reach"),
        "outputs": run.outputs,
    }
    if run.status != "running":
        figures["sample"] = {
            outcome: store.decision_sample(session, run_id, outcome=outcome, limit=sample)
            for outcome in OUTCOMES
        }
        figures["sample_changes"] = {
            change: store.decision_sample(session, run_id, change=change, limit=sample)
            for change in ("new", "changed", "ended")
        }
    return cast(dict[str, Any], json.loads(json.dumps(figures, default=str)))


def campaign_runs(session: Session, campaign: str, limit: int = 20) -> list[dict[str, Any]]:
    """A campaign's runs, newest first, with their headline figures (for the runs table)."""
    out = []
    for run in store.list_runs(session, campaign, limit=limit):
        summary = run.summary or {}
        out.append(
            {
                "id": run.id,
                "as_of": run.as_of.isoformat(),
                "status": run.status,
                "started": run.started.isoformat(),
                "outcomes": summary.get("outcomes", {}),
                "changes": summary.get("changes", {}),
                "letters_issued": store.letter_counts(session, run.id),
                "approvals": list(run.approvals),
                "approvals_required": run.approvals_required,
            }
        )
    return out


# --------------------------------------------------------------------------- schedule


@dataclass(frozen=True)
class Due:
    campaign: Campaign
    slot: str  # the schedule moment, ISO (minutes)
    as_of: date
    resume: bool  # a run for this slot is unfinished


def due_runs(ctx: CampaignContext, campaigns: Sequence[Campaign], now: datetime) -> list[Due]:
    """The campaigns whose latest scheduled moment (at or before `now`) has no run yet, or
    whose run for it is unfinished. Missed moments before the latest are not caught up."""
    out = []
    with ctx.factory() as session:
        for campaign in campaigns:
            slot = campaign.spec.schedule.last_slot(now.replace(tzinfo=None))
            if slot is None:
                continue
            key = slot.isoformat(timespec="minutes")
            runs = store.runs_scheduled_for(session, campaign.name, key)
            running = store.running_run(session, campaign.name)
            if not runs:
                if running is None:
                    out.append(Due(campaign, key, slot.date(), False))
            elif any(r.status == "running" for r in runs):
                out.append(Due(campaign, key, slot.date(), True))
    return out


def run_due(
    ctx: CampaignContext,
    campaigns: Sequence[Campaign],
    now: datetime,
    *,
    actor: str = "scheduler",
    workers: int = 1,
    progress: Callable[[Campaign], RunProgress | None] | None = None,
) -> list[RunView]:
    """Run every due campaign (for cron or a systemd timer): each schedule moment once."""
    views = []
    for due in due_runs(ctx, campaigns, now):
        views.append(
            run_campaign(
                ctx,
                due.campaign,
                due.as_of,
                actor=actor,
                scheduled_for=due.slot,
                workers=workers,
                progress=progress(due.campaign) if progress else None,
            )
        )
    return views
