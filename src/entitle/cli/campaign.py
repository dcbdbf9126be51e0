"""`entitle campaign …`: run, schedule, review, issue, simulate, list and show campaigns.

    entitle campaign list
    entitle campaign show NAME [--run ID] [--json]
    entitle campaign run NAME [--as-of DATE] [--workers N] [--json] [--confirm-population]
    entitle campaign schedule [--now DATETIME] [--dry-run] [--json]   cron / systemd timer
    entitle campaign health [--json]                              each campaign's last attempt
    entitle campaign approve RUN --as USER [--note TEXT]        issues when approved
    entitle campaign reject RUN --as USER --note TEXT
    entitle campaign issue RUN --as USER                        again, idempotent
    entitle campaign export RUN --format parquet|csv --as USER [--with-insz] [--out FILE]
    entitle campaign simulate NAME --set PARAM=VALUE … [--as-of DATE]
    entitle campaign abandon NAME --as USER
    entitle campaign coupon CODE [--use --as ACTOR]

Where: --campaigns, --benefits, --register, --registry, --local, --url and --output, each
falling back to its setting (`entitle.cli.options.Where`).
Approve, reject, issue, export and abandon sign in: --as names your campaign-manager account
(ENTITLE_USER), its password comes from ENTITLE_PASSWORD or a hidden prompt.
Exit codes (run, schedule, approve, issue): 0 done, 1 done with subjects pending through
failures of ours, 2 refused (preflight, gates, lock, paused run, state or review rules, bad
input, sign-in), 3 input/output (database or folder not writable): fix it and run again.
"""

from __future__ import annotations

import contextlib
import errno
import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from entitle.cli.options import (
    BY_SETTINGS,
    DEFAULT_WORKERS,
    ActorOption,
    AsOfOption,
    JsonOption,
    Where,
    WorkersOption,
    errors,
    fail,
    parse_date,
    parse_moment,
    where_options,
)
from entitle.cli.signin import INSZ_ROLES, sign_in
from entitle.cli.watch import schedule_follow_up
from entitle.console import cli_console
from entitle.rules.logic import OUTCOMES

if TYPE_CHECKING:  # the commands import what they run (`entitle --help` stays quick)
    from sqlalchemy.orm import Session

    from entitle.decide.campaign.context import CampaignContext
    from entitle.decide.campaign.definition import Campaign
    from entitle.decide.campaign.outcome import RunOutcome
    from entitle.store.campaigns import RunView

campaign_app = typer.Typer(
    help="Proactive campaigns: run, review, issue, simulate.", no_args_is_help=True
)
console = cli_console(highlight=False)


class RichStages:
    """A progress bar per fetch stage (subjects past the stage) with the entities fetched."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[int, TaskID] = {}
        self.stored: TaskID | None = None

    def start(self, stages: Sequence[tuple[int, str]], subjects: int, done: int) -> None:
        for index, facts in stages:
            label = facts if len(facts) <= 60 else facts[:57] + "…"
            self.tasks[index] = self.progress.add_task(
                f"stage {index}: {label}", total=subjects, completed=done, fetched=0, note=""
            )
        self.stored = self.progress.add_task(
            "decisions stored", total=subjects, completed=done, fetched=0, note=""
        )

    def stage_done(self, stage: int, subjects: int) -> None:
        if stage in self.tasks:
            self.progress.advance(self.tasks[stage], subjects)

    def fetched(self, stage: int, entities: int) -> None:
        task = self.tasks.get(stage)
        if task is not None:
            fields = self.progress.tasks[task].fields
            total = int(fields.get("fetched", 0)) + entities
            self.progress.update(task, fetched=total, note=f"asked {total:,}")

    def chunk_done(self, subjects: int) -> None:
        if self.stored is not None:
            self.progress.advance(self.stored, subjects)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _print_summary(summary: dict[str, Any]) -> None:
    table = Table(title="Run summary", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    for outcome, count in summary.get("outcomes", {}).items():
        table.add_row(outcome, f"{count:,}")
    for change, count in summary.get("changes", {}).items():
        table.add_row(f"change: {change}", f"{count:,}")
    for band, count in summary.get("bands", {}).items():
        table.add_row(f"band {band}", f"{count:,}")
    if summary.get("cost") is not None:
        table.add_row("cost (€)", f"{summary['cost']:,.2f}")
    partial = summary.get("partial") or {}
    if partial:  # eligible for certain with an output open: the certain part is granted
        table.add_row("eligible, partial (an output open)", f"{partial.get('count', 0):,}")
        for name, count in partial.get("open", {}).items():
            table.add_row(f"partial: {name}", f"{count:,}")
    for outcome, count in (summary.get("by_bounds") or {}).items():
        table.add_row(f"settled by bounds: {outcome}", f"{count:,}")
    for reason, count in summary.get("undetermined_reasons", {}).items():
        table.add_row(f"undetermined: {reason}", f"{count:,}")
    for reason, count in (summary.get("pending") or {}).get("reasons", {}).items():
        table.add_row(f"pending (ours): {reason}", f"{count:,}")
    for kind, count in summary.get("letters_due", {}).items():
        table.add_row(f"letters due on approval: {kind}", f"{count:,}")
    reach = summary.get("reach")
    if reach:
        for key, value in reach.items():
            table.add_row(f"reach: {key}", f"{value}")
    console.print(table)


@campaign_app.command("list")
@where_options("campaigns", "benefits", "url")
def list_command(
    where: Where = BY_SETTINGS,
    as_json: JsonOption = False,
) -> None:
    """The campaigns, their schedule and their latest run."""
    from entitle.store import campaigns as store

    loaded = where.all_campaigns()
    ctx = where.context()
    rows: list[dict[str, Any]] = []
    with ctx.factory() as session:
        for campaign in loaded:
            latest = store.list_runs(session, campaign.name, limit=1)
            schedule = campaign.spec.schedule
            rows.append(
                {
                    "name": campaign.name,
                    "benefit": campaign.benefit.id,
                    "target": campaign.spec.target.kind,
                    "schedule": schedule.cron
                    or ", ".join(schedule.school_year)
                    or ", ".join(d.isoformat() for d in schedule.dates),
                    "approvals": campaign.approvals_required,
                    "last_run": latest[0].id if latest else None,
                    "last_status": latest[0].status if latest else None,
                    "last_as_of": latest[0].as_of.isoformat() if latest else None,
                }
            )
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title="Campaigns")
    for column in ("name", "benefit", "target", "schedule", "approvals", "last run"):
        table.add_column(column)
    for row in rows:
        last = (
            f"#{row['last_run']} {row['last_status']} ({row['last_as_of']})"
            if row["last_run"]
            else "-"
        )
        table.add_row(
            str(row["name"]),
            str(row["benefit"]),
            str(row["target"]),
            str(row["schedule"]),
            str(row["approvals"]),
            last,
        )
    console.print(table)


@campaign_app.command("show")
@where_options("campaigns", "benefits", "url")
def show_command(
    name: str,
    run: Annotated[int | None, typer.Option("--run", help="A run's figures.")] = None,
    where: Where = BY_SETTINGS,
    as_json: JsonOption = False,
) -> None:
    """A campaign's definition and runs, or one run's figures (--run)."""
    from entitle.decide.campaign import run_figures
    from entitle.store import campaigns as store

    campaign = where.campaign(name)
    ctx = where.context()
    with ctx.factory() as session:
        if run is not None:
            try:
                figures = run_figures(session, run)
            except KeyError as exc:
                raise fail(str(exc), 1) from None
            if as_json:
                print(json.dumps(figures.to_json(), indent=2, ensure_ascii=False))
                return
            info = figures.run
            console.print(
                f"run #{info.id} of {info.campaign} as of {info.as_of.isoformat()}: {info.status}"
                f" (approvals {len(info.verdicts)}/{info.approvals_required})"
            )
            _print_summary({**(info.summary or {})})
            if figures.letters_issued:
                console.print(f"letters issued: {figures.letters_issued}")
            return
        runs = store.list_runs(session, campaign.name, limit=20)
    if as_json:
        print(
            json.dumps(
                {
                    "name": campaign.name,
                    "definition": campaign.spec.model_dump(mode="json"),
                    "runs": [r.to_dict() for r in runs],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    spec = campaign.spec
    console.print(f"[bold]{campaign.name}[/bold]: {spec.title.get('nl', '')}", markup=True)
    console.print(
        f"benefit {campaign.benefit.id} {campaign.benefit.version}; target {spec.target.kind}; "
        f"review: {spec.review.approvals} approval(s)"
    )
    table = Table(title="Runs")
    for column in ("run", "as of", "status", "eligible", "new", "ended", "undetermined"):
        table.add_column(column)
    for r in runs:
        summary = r.summary or {}
        outcomes, changes = summary.get("outcomes", {}), summary.get("changes", {})
        table.add_row(
            str(r.id),
            r.as_of.isoformat(),
            r.status,
            str(outcomes.get("eligible", "")),
            str(changes.get("new", "")),
            str(changes.get("ended", "")),
            str(outcomes.get("undetermined", "")),
        )
    console.print(table)


def _print_pending(summary: dict[str, Any]) -> None:
    pending = summary.get("pending") or {}
    if not pending.get("count"):
        return
    names = pending.get("subjects", [])
    shown = ", ".join(names[:10]) + (" …" if len(names) > 10 else "")
    console.print(
        f"warning: {pending['count']:,} pending through failures of ours (registry, network, "
        f"configuration): they get no letter; the next run decides them. Pending: {shown}",
        markup=False,
    )


def _report(outcome: RunOutcome, as_json: bool) -> None:
    """An attempt's outcome: JSON on stdout, or the summary and one line (on stderr when the
    attempt failed)."""
    if as_json:
        print(json.dumps(outcome.to_dict(), indent=2, ensure_ascii=False))
        return
    if outcome.summary is not None:
        console.print(
            f"run #{outcome.run} of {outcome.campaign} as of {outcome.as_of}: {outcome.status}"
        )
        _print_summary(outcome.summary)
        _print_pending(outcome.summary)
    (console if outcome.exit_code < 2 else errors).print(outcome.message, markup=False)


def _before_run(ctx: CampaignContext, campaign: Campaign, as_of: date | None) -> None:
    """Warn before the run starts when the signing certificate expires soon (the target's KSZ
    inscriptions are a preflight check of the run itself)."""
    from entitle.decide.campaign.inscriptions import magda_settings
    from entitle.sources.magda import MagdaConfigError
    from entitle.sources.magda.signing import expiry_warning

    try:
        warning = expiry_warning(magda_settings(ctx))
    except MagdaConfigError as exc:
        raise fail(str(exc)) from None
    if warning:
        errors.print(warning, markup=False)


@campaign_app.command("run")
@where_options("campaigns", "benefits", "register", "registry", "local", "url", "output")
def run_command(
    name: str,
    as_of: AsOfOption = None,
    actor: Annotated[str, typer.Option("--as", help="Who starts the run.")] = "cli",
    workers: WorkersOption = DEFAULT_WORKERS,
    chunk_size: Annotated[int | None, typer.Option("--chunk-size", min=1)] = None,
    confirm_population: Annotated[
        bool,
        typer.Option(
            "--confirm-population",
            help="Go ahead although the target grew or shrank past the gate (audited).",
        ),
    ] = False,
    where: Where = BY_SETTINGS,
    as_json: JsonOption = False,
) -> None:
    """Run the campaign (or resume its unfinished run); the run ends as a draft to review.
    Exit 0 all decided, 1 some pending, 2 refused or paused, 3 input/output."""
    from entitle.decide.campaign.outcome import attempt

    campaign = where.campaign(name)
    ctx = where.context()
    _before_run(ctx, campaign, parse_date(as_of))
    options: dict[str, Any] = {
        "actor": actor,
        "workers": workers,
        "chunk_size": chunk_size,
        "confirm_population": confirm_population,
    }
    if as_json:
        outcome = attempt(ctx, campaign, parse_date(as_of), **options)
    else:
        with _progress() as progress:
            outcome = attempt(
                ctx, campaign, parse_date(as_of), progress=RichStages(progress), **options
            )
    _report(outcome, as_json)
    if outcome.status == "draft" and not as_json:
        console.print(
            f"review it, then: entitle campaign approve {outcome.run} --as USER",
            markup=False,
        )
    raise typer.Exit(outcome.exit_code)


@campaign_app.command("schedule")
@where_options("campaigns", "benefits", "register", "registry", "local", "url", "output")
def schedule_command(
    now: Annotated[
        str | None, typer.Option("--now", help="Pretend it is this moment (ISO).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what is due.")] = False,
    workers: WorkersOption = DEFAULT_WORKERS,
    where: Where = BY_SETTINGS,
    as_json: JsonOption = False,
) -> None:
    """Run every campaign that is due; for cron or systemd. Prints each campaign's result (and
    logs it in <data dir>/campaign-runs.jsonl); a moment whose run failed stays due. Exits with
    the worst code of the campaigns."""
    from entitle.decide.campaign import due_runs
    from entitle.decide.campaign.outcome import attempt

    moment = parse_moment(now) or datetime.now()
    loaded = where.all_campaigns()
    ctx = where.context()
    # the weekly follow-up (`watch run`, then the batches due) of campaigns that have one
    follow_up = schedule_follow_up(ctx, loaded, moment, dry_run=dry_run, quiet=as_json)
    due = due_runs(ctx, loaded, moment)
    if not due:
        if as_json:
            print(json.dumps([]))
        else:
            console.print("nothing due")
        raise typer.Exit(follow_up)
    outcomes: list[RunOutcome] = []
    for item in due:
        verb = "resume" if item.resume else "run"
        if not as_json:
            console.print(f"{verb} {item.campaign.name} for {item.slot} (as of {item.as_of})")
        if dry_run:
            continue
        with contextlib.suppress(typer.Exit):  # printed; the attempt then reports it as well
            _before_run(ctx, item.campaign, item.as_of)  # the certificate warning
        outcome = attempt(
            ctx,
            item.campaign,
            item.as_of,
            actor="scheduler",
            scheduled_for=item.slot,
            workers=workers,
        )
        outcomes.append(outcome)
        if not as_json:
            stream = console if outcome.exit_code < 2 else errors
            stream.print(
                f"  {item.campaign.name}: {outcome.result} (exit {outcome.exit_code}): "
                f"{outcome.message}",
                markup=False,
            )
    if as_json:
        print(json.dumps([o.to_dict() for o in outcomes], indent=2, ensure_ascii=False))
    raise typer.Exit(max([follow_up, *(o.exit_code for o in outcomes)]))


@campaign_app.command("health")
@where_options("url")
def health_command(
    where: Where = BY_SETTINGS,
    as_json: JsonOption = False,
) -> None:
    """Each campaign's last run attempt (for monitoring); exits with the worst exit code."""
    from entitle.decide.campaign.health import read_health

    ctx = where.context()
    states = read_health(ctx)
    if as_json:
        print(json.dumps(states, indent=2, ensure_ascii=False))
    else:
        for name, state in sorted(states.items()):
            console.print(
                f"{name}: {state['result']} (exit {state['exit_code']}) at {state['at']}: "
                f"{state['message']}",
                markup=False,
            )
        if not states:
            console.print("no campaign run yet")
    raise typer.Exit(max((int(s["exit_code"]) for s in states.values()), default=0))


@campaign_app.command("approve")
@where_options("campaigns", "benefits", "register", "registry", "local", "url", "output")
def approve_command(
    run: int,
    actor: ActorOption,
    note: Annotated[str, typer.Option("--note")] = "",
    issue: Annotated[bool, typer.Option("--issue/--no-issue", help="Issue once approved.")] = True,
    where: Where = BY_SETTINGS,
) -> None:
    """Approve a draft run (four eyes: a second person approves too); then issue it."""
    from entitle.decide.campaign import approve_run
    from entitle.decide.campaign.review import due_count
    from entitle.store import campaigns as store

    ctx = where.context()
    sign_in(ctx, actor)
    campaign = where.campaign_of_run(ctx, run)
    today = ctx.today()
    with ctx.factory() as session:
        draft = store.get_run(session, run)
    if (
        draft is not None
        and draft.status == "draft"
        and not due_count(campaign, draft.summary or {})
    ):
        errors.print(
            f"warning: run #{run} is empty: approving it sends no letter and lists no pupil",
            markup=False,
        )
    view = _verdict(
        ctx,
        lambda session: approve_run(session, campaign, run, actor=actor, note=note, today=today),
    )
    console.print(
        f"run #{run}: {view.status} ({len(view.approvals)}/{view.approvals_required} approvals)"
    )
    if view.status == "approved" and issue:
        _issue(ctx, campaign, run, actor)


@campaign_app.command("reject")
@where_options("campaigns", "benefits", "url")
def reject_command(
    run: int,
    actor: ActorOption,
    note: Annotated[str, typer.Option("--note", help="Why.")],
    where: Where = BY_SETTINGS,
) -> None:
    """Reject a draft run: it will never issue anything."""
    from entitle.decide.campaign import reject_run

    ctx = where.context()
    sign_in(ctx, actor)
    campaign = where.campaign_of_run(ctx, run)
    view = _verdict(ctx, lambda session: reject_run(session, campaign, run, actor=actor, note=note))
    console.print(f"run #{run}: {view.status}")


def _verdict(ctx: CampaignContext, give: Callable[[Session], RunView]) -> RunView:
    """Record an approval or rejection in one transaction; a refused one exits 2 with its
    reason, one the database does not take exits 3."""
    from sqlalchemy.exc import SQLAlchemyError

    from entitle.decide.campaign.outcome import short_error
    from entitle.store.campaigns import CampaignStateError

    try:
        with ctx.factory() as session:
            view = give(session)
            session.commit()
    except CampaignStateError as exc:
        raise fail(str(exc)) from None
    except SQLAlchemyError as exc:
        raise fail(f"the verdict was not recorded: {short_error(exc)}", 3) from None
    return view


@campaign_app.command("issue")
@where_options("campaigns", "benefits", "register", "registry", "local", "url", "output")
def issue_command(
    run: int,
    actor: ActorOption,
    where: Where = BY_SETTINGS,
) -> None:
    """Issue an approved run (again): never a second letter or coupon."""
    ctx = where.context()
    sign_in(ctx, actor)
    campaign = where.campaign_of_run(ctx, run)
    _issue(ctx, campaign, run, actor)


def _issue(ctx: CampaignContext, campaign: Campaign, run: int, actor: str) -> None:
    from entitle.decide.campaign import issue_run
    from entitle.decide.campaign.preflight import NotWritableError
    from entitle.store.campaigns import CampaignStateError

    try:
        result = issue_run(ctx, campaign, run, actor=actor)
    except CampaignStateError as exc:
        raise fail(str(exc)) from None
    except NotWritableError as exc:
        raise fail(f"{exc}. Fix it, then run `entitle campaign issue {run}` again.", 3) from None
    except OSError as exc:  # disk full, folder not writable: nothing counts as issued
        where = Path(exc.filename).parent if exc.filename else ctx.output_dir
        why = "disk full (no space left on device)" if exc.errno == errno.ENOSPC else exc.strerror
        raise fail(
            f"run #{run}: cannot write the letters and lists in {where}: {why}. The run is not "
            f"issued; fix it, then run `entitle campaign issue {run} --as {actor}` again "
            "(no letter is issued twice).",
            3,
        ) from None
    console.print(
        f"run #{run} issued: letters {result.letters} ({result.new_letters} new), "
        f"{result.pages} pages, {len(result.files)} file(s) in {result.seconds:.1f} s"
    )
    for path in result.files:
        console.print(f"  {path}")
    pending = int(((result.run.summary or {}).get("pending") or {}).get("count", 0))
    if pending:
        console.print(
            f"{pending:,} subject(s) of run #{run} are pending through failures of ours: they "
            "got no letter; the next run decides them.",
            markup=False,
        )
        raise typer.Exit(1)


@campaign_app.command("export")
@where_options("campaigns", "benefits", "register", "url", "output")
def export_command(
    run: int,
    actor: ActorOption,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "csv",
    out: Annotated[
        Path | None, typer.Option("--out", help="The file (default: the run's folder).")
    ] = None,
    with_insz: Annotated[
        bool, typer.Option("--with-insz", help="Add the INSZ (roles that see it at the desk).")
    ] = False,
    where: Where = BY_SETTINGS,
) -> None:
    """A run's decisions, one row per subject (pseudonymised unless --with-insz)."""
    from entitle.decide.campaign.definition import CampaignError
    from entitle.decide.campaign.export import export_run

    ctx = where.context()
    role = sign_in(ctx, actor, roles=(*INSZ_ROLES, "auditor"))
    if with_insz and role not in INSZ_ROLES:
        raise fail(f"the role {role} may not see INSZ: export without --with-insz")
    campaign = where.campaign_of_run(ctx, run)
    try:
        path, rows = export_run(
            ctx,
            campaign,
            run,
            fmt=fmt,
            actor=actor,
            path=out,
            with_insz=with_insz,
        )
    except CampaignError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write the export: {exc.strerror or exc}", 3) from None
    console.print(f"{rows:,} decisions of run #{run} in {path}", markup=False)


@campaign_app.command("simulate")
@where_options("campaigns", "benefits", "register", "registry", "local", "url")
def simulate_command(
    name: str,
    settings: Annotated[
        list[str], typer.Option("--set", help="PARAM=VALUE (money in euro); repeatable.")
    ],
    as_of: AsOfOption = None,
    where: Where = BY_SETTINGS,
    as_json: JsonOption = False,
) -> None:
    """What if a parameter changed? More or fewer reached, and the cost, by band. Stores and
    issues nothing."""
    from entitle.decide.campaign import simulate
    from entitle.decide.campaign.definition import CampaignError
    from entitle.sources.magda import MagdaConfigError

    campaign = where.campaign(name)
    ctx = where.context()
    try:
        result = simulate(ctx, campaign, settings, parse_date(as_of))
    except (CampaignError, MagdaConfigError) as exc:
        raise fail(str(exc)) from None
    if as_json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return
    table = Table(title=f"What if {', '.join(settings)} ({campaign.name}, as of {result.as_of})")
    for column in ("", "now", "what-if", "difference"):
        table.add_column(column, justify="right")
    for outcome in OUTCOMES:
        before, after = result.baseline[outcome], result.variant[outcome]
        table.add_row(outcome, f"{before:,}", f"{after:,}", f"{after - before:+,}")
    for band, (before, after) in result.bands.items():
        table.add_row(f"band {band}", f"{before:,}", f"{after:,}", f"{after - before:+,}")
    for band, (spent, spend) in result.cost.items():
        table.add_row(
            f"cost {band} (€)", f"{spent:,.2f}", f"{spend:,.2f}", f"{spend - spent:+,.2f}"
        )
    console.print(table)
    console.print(
        f"reached: {result.reached_difference:+,}; "
        f"cost difference: € {result.cost_difference:+,.2f}"
    )


@campaign_app.command("abandon")
@where_options("campaigns", "benefits", "url")
def abandon_command(
    name: str,
    actor: ActorOption,
    where: Where = BY_SETTINGS,
) -> None:
    """Give up the campaign's unfinished run (it issues nothing)."""
    from entitle.decide.campaign import abandon

    campaign = where.campaign(name)
    ctx = where.context()
    sign_in(ctx, actor)
    view = abandon(ctx, campaign, actor=actor)
    console.print(f"run #{view.id} abandoned" if view else "no unfinished run")


@campaign_app.command("coupon")
@where_options("url")
def coupon_command(
    code: str,
    use: Annotated[bool, typer.Option("--use", help="Mark it used (once).")] = False,
    actor: Annotated[str, typer.Option("--as", help="Who uses it (shop, IVAGO).")] = "cli",
    where: Where = BY_SETTINGS,
) -> None:
    """Check a coupon code (and mark it used). Exit 0 valid (and now used), 1 otherwise."""
    from entitle.decide.coupons import use_coupon, verify_coupon

    ctx = where.context()
    key = ctx.coupon_key()
    with ctx.factory() as session:
        result: str
        if use:
            result, status = use_coupon(session, code, key=key, actor=actor)
            session.commit()
        else:
            status = verify_coupon(session, code, key=key)
            result = "valid" if status.usable else "not usable"
    print(json.dumps({"result": result, **status.to_dict()}, indent=2, ensure_ascii=False))
    if result not in ("used", "valid"):
        raise typer.Exit(1)
