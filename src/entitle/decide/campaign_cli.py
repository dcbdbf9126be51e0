"""`entitle campaign …`: run, schedule, review, issue, simulate, list and show campaigns.

    entitle campaign list
    entitle campaign show NAME [--run ID] [--json]
    entitle campaign run NAME [--as-of DATE] [--workers N]      resumes an unfinished run
    entitle campaign schedule [--now DATETIME] [--dry-run]      cron / systemd timer
    entitle campaign approve RUN --as USER [--note TEXT]        issues when approved
    entitle campaign reject RUN --as USER --note TEXT
    entitle campaign issue RUN --as USER                        again, idempotent
    entitle campaign simulate NAME --set PARAM=VALUE … [--as-of DATE]
    entitle campaign abandon NAME --as USER
    entitle campaign coupon CODE [--use --as ACTOR]

Where: --campaigns (ENTITLE_CAMPAIGNS, default ./campaigns), --benefits (ENTITLE_BENEFITS,
./benefits), --register (ENTITLE_REGISTER_EXTRACT), --registry (ENTITLE_MAGDA_BASE_URL),
--local (ENTITLE_LOCAL), --url (ENTITLE_DATABASE_URL), --output
(ENTITLE_CAMPAIGN_OUTPUT), --truth (ENTITLE_TRUTH: a synthetic city, to measure reach).
Exit codes: 0 done, 1 refused (state, review rules), 2 bad input or configuration,
3 output not written (disk full, folder not writable): fix it and issue again.
"""

from __future__ import annotations

import errno
import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy.orm import Session

from entitle.decide.campaign_def import (
    Campaign,
    CampaignError,
    find_campaign,
    load_campaigns,
)
from entitle.rules.loader import RuleFileError
from entitle.sources.magda import MagdaConfigError
from entitle.store import campaigns as store
from entitle.store.campaigns import CampaignStateError, RunView

if TYPE_CHECKING:  # the use cases are imported by the commands that run them (a quick --help)
    from entitle.decide.campaign_context import CampaignContext

campaign_app = typer.Typer(
    help="Proactive campaigns: run, review, issue, simulate.", no_args_is_help=True
)
console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)

CampaignsOption = Annotated[
    Path, typer.Option("--campaigns", envvar="ENTITLE_CAMPAIGNS", help="Campaign files.")
]
BenefitsOption = Annotated[
    Path, typer.Option("--benefits", envvar="ENTITLE_BENEFITS", help="Benefit files.")
]
RegisterOption = Annotated[
    Path | None,
    typer.Option(
        "--register",
        envvar="ENTITLE_REGISTER_EXTRACT",
        help="Register extract folder (persons, households).",
        show_default=False,
    ),
]
RegistryOption = Annotated[
    str | None,
    typer.Option("--registry", envvar="ENTITLE_MAGDA_BASE_URL", help="MAGDA / simulator URL."),
]
LocalOption = Annotated[
    str | None,
    typer.Option("--local", envvar="ENTITLE_LOCAL", help="Local datasets folder or URL."),
]
UrlOption = Annotated[
    str | None,
    typer.Option("--url", envvar="ENTITLE_DATABASE_URL", help="Database URL.", show_default=False),
]
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", envvar="ENTITLE_CAMPAIGN_OUTPUT", help="Where letters go."),
]
TruthOption = Annotated[
    Path | None,
    typer.Option(
        "--truth", envvar="ENTITLE_TRUTH", help="Synthetic city: measure reach on its truth."
    ),
]
ActorOption = Annotated[str, typer.Option("--as", help="Your user name (a campaign manager).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    errors.print(message, markup=False)
    return typer.Exit(code)


def _context(
    url: str | None,
    register: Path | None,
    registry: str | None,
    local: str | None,
    output: Path | None,
    truth: Path | None,
) -> CampaignContext:
    from entitle.decide.campaign_context import CampaignContext
    from entitle.store.db import make_engine, redacted, schema_is_current

    try:
        engine = make_engine(url)
        current = schema_is_current(engine)
    except Exception as exc:
        raise _fail(f"database {redacted(url)} unreachable: {type(exc).__name__}") from None
    if not current:
        raise _fail(
            f"database {redacted(url)} is not at the newest schema: run `entitle db upgrade`"
        )
    return CampaignContext.from_env(
        database_url=url,
        register=register,
        registry=registry,
        local=local,
        output_dir=output,
        truth=truth,
    )


def _campaign(name: str, campaigns: Path, benefits: Path) -> Campaign:
    try:
        return find_campaign(name, campaigns, benefits)
    except (CampaignError, RuleFileError) as exc:
        raise _fail(str(exc)) from None


def _as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(f"--as-of: {value!r} is not a date (YYYY-MM-DD)") from None


def _check_manager(ctx: CampaignContext, actor: str) -> None:
    from entitle.store.users import list_users

    with ctx.factory() as session:
        users = {u.username: u for u in list_users(session)}
    user = users.get(actor)
    if user is None or not user.active or user.role not in ("campaign_manager", "administrator"):
        raise _fail(f"{actor!r} is not an active campaign manager", 1)


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
    for reason, count in summary.get("undetermined_reasons", {}).items():
        table.add_row(f"undetermined: {reason}", f"{count:,}")
    for kind, count in summary.get("letters_due", {}).items():
        table.add_row(f"letters due on approval: {kind}", f"{count:,}")
    reach = summary.get("reach")
    if reach:
        for key, value in reach.items():
            table.add_row(f"reach: {key}", f"{value}")
    console.print(table)


@campaign_app.command("list")
def list_command(
    campaigns: CampaignsOption = Path("campaigns"),
    benefits: BenefitsOption = Path("benefits"),
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """The campaigns, their schedule and their latest run."""
    try:
        loaded = load_campaigns(campaigns, benefits)
    except (CampaignError, RuleFileError) as exc:
        raise _fail(str(exc)) from None
    ctx = _context(url, None, None, None, None, None)
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
def show_command(
    name: str,
    run: Annotated[int | None, typer.Option("--run", help="A run's figures.")] = None,
    campaigns: CampaignsOption = Path("campaigns"),
    benefits: BenefitsOption = Path("benefits"),
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """A campaign's definition and runs, or one run's figures (--run)."""
    from entitle.decide.campaign import run_figures

    campaign = _campaign(name, campaigns, benefits)
    ctx = _context(url, None, None, None, None, None)
    with ctx.factory() as session:
        if run is not None:
            try:
                figures = run_figures(session, run)
            except KeyError as exc:
                raise _fail(str(exc), 1) from None
            if as_json:
                print(json.dumps(figures, indent=2, ensure_ascii=False))
                return
            info = figures["run"]
            console.print(
                f"run #{info['id']} of {info['campaign']} as of {info['as_of']}: {info['status']}"
                f" (approvals {len(info['verdicts'])}/{info['approvals_required']})"
            )
            _print_summary({**(info.get("summary") or {})})
            if figures.get("letters_issued"):
                console.print(f"letters issued: {figures['letters_issued']}")
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


@campaign_app.command("run")
def run_command(
    name: str,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Decision date YYYY-MM-DD.")] = None,
    actor: Annotated[str, typer.Option("--as", help="Who starts the run.")] = "cli",
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            envvar="ENTITLE_CAMPAIGN_WORKERS",
            min=1,
            max=16,
            help="Processes deciding chunks (2 on a 2-core machine for a whole city).",
        ),
    ] = 1,
    chunk_size: Annotated[int | None, typer.Option("--chunk-size", min=1)] = None,
    campaigns: CampaignsOption = Path("campaigns"),
    benefits: BenefitsOption = Path("benefits"),
    register: RegisterOption = None,
    registry: RegistryOption = None,
    local: LocalOption = None,
    url: UrlOption = None,
    output: OutputOption = None,
    truth: TruthOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run the campaign (or resume its unfinished run); the run ends as a draft to review."""
    from entitle.decide.campaign import run_campaign

    campaign = _campaign(name, campaigns, benefits)
    ctx = _context(url, register, registry, local, output, truth)
    try:
        if as_json:
            view = run_campaign(
                ctx,
                campaign,
                _as_of(as_of),
                actor=actor,
                workers=workers,
                chunk_size=chunk_size,
            )
        else:
            with _progress() as progress:
                view = run_campaign(
                    ctx,
                    campaign,
                    _as_of(as_of),
                    actor=actor,
                    workers=workers,
                    chunk_size=chunk_size,
                    progress=RichStages(progress),
                )
    except CampaignStateError as exc:
        raise _fail(str(exc), 1) from None
    except (CampaignError, MagdaConfigError) as exc:
        raise _fail(str(exc)) from None
    if as_json:
        print(json.dumps(view.to_dict(), indent=2, ensure_ascii=False))
        return
    console.print(f"run #{view.id} of {campaign.name} as of {view.as_of}: {view.status}")
    _print_summary(view.summary or {})
    reasons = (view.summary or {}).get("undetermined_reasons", {})
    transient = sum(n for reason, n in reasons.items() if reason.endswith("(retry)"))
    if transient:
        console.print(
            f"warning: {transient:,} undetermined because a registry did not answer (a "
            "transient failure: see the undetermined reasons). They get no invitation; the "
            "next run, once the registry is back, decides them.",
            markup=False,
        )
    if view.status == "draft":
        console.print(
            f"review it, then: entitle campaign approve {view.id} --as USER "
            f"({view.approvals_required} approval(s) needed)"
        )


@campaign_app.command("schedule")
def schedule_command(
    now: Annotated[
        str | None, typer.Option("--now", help="Pretend it is this moment (ISO).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what is due.")] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            envvar="ENTITLE_CAMPAIGN_WORKERS",
            min=1,
            max=16,
            help="Processes deciding chunks (2 on a 2-core machine for a whole city).",
        ),
    ] = 1,
    campaigns: CampaignsOption = Path("campaigns"),
    benefits: BenefitsOption = Path("benefits"),
    register: RegisterOption = None,
    registry: RegistryOption = None,
    local: LocalOption = None,
    url: UrlOption = None,
    output: OutputOption = None,
    truth: TruthOption = None,
) -> None:
    """Run every campaign that is due (each schedule moment once); for cron or systemd."""
    from entitle.decide.campaign import due_runs, run_campaign

    try:
        moment = datetime.fromisoformat(now) if now else datetime.now()
    except ValueError:
        raise _fail(f"--now: {now!r} is not an ISO date-time") from None
    try:
        loaded = load_campaigns(campaigns, benefits)
    except (CampaignError, RuleFileError) as exc:
        raise _fail(str(exc)) from None
    ctx = _context(url, register, registry, local, output, truth)
    due = due_runs(ctx, loaded, moment)
    if not due:
        console.print("nothing due")
        return
    for item in due:
        verb = "resume" if item.resume else "run"
        console.print(f"{verb} {item.campaign.name} for {item.slot} (as of {item.as_of})")
        if dry_run:
            continue
        try:
            view = run_campaign(
                ctx,
                item.campaign,
                item.as_of,
                actor="scheduler",
                scheduled_for=item.slot,
                workers=workers,
            )
        except (CampaignStateError, CampaignError) as exc:
            errors.print(f"{item.campaign.name}: {exc}", markup=False)
            continue
        console.print(f"  run #{view.id}: {view.status}")


@campaign_app.command("approve")
def approve_command(
    run: int,
    actor: ActorOption,
    note: Annotated[str, typer.Option("--note")] = "",
    issue: Annotated[bool, typer.Option("--issue/--no-issue", help="Issue once approved.")] = True,
    campaigns: CampaignsOption = Path("campaigns"),
    benefits: BenefitsOption = Path("benefits"),
    register: RegisterOption = None,
    registry: RegistryOption = None,
    local: LocalOption = None,
    url: UrlOption = None,
    output: OutputOption = None,
) -> None:
    """Approve a draft run (four eyes: a second person approves too); then issue it."""
    from entitle.decide.campaign import approve_run

    ctx = _context(url, register, registry, local, output, None)
    _check_manager(ctx, actor)
    campaign = _run_campaign(ctx, run, campaigns, benefits)
    view = _verdict(
        ctx, lambda session: approve_run(session, campaign, run, actor=actor, note=note)
    )
    console.print(
        f"run #{run}: {view.status} ({len(view.approvals)}/{view.approvals_required} approvals)"
    )
    if view.status == "approved" and issue:
        _issue(ctx, campaign, run, actor)


@campaign_app.command("reject")
def reject_command(
    run: int,
    actor: ActorOption,
    note: Annotated[str, typer.Option("--note", help="Why.")],
    campaigns: CampaignsOption = Path("campaigns"),
    benefits: BenefitsOption = Path("benefits"),
    url: UrlOption = None,
) -> None:
    """Reject a draft run: it will never issue anything."""
    from entitle.decide.campaign import reject_run

    ctx = _context(url, None, None, None, None, None)
    _check_manager(ctx, actor)
    campaign = _run_campaign(ctx, run, campaigns, benefits)
    view = _verdict(ctx, lambda session: reject_run(session, campaign, run, actor=actor, note=note))
    console.print(f"run #{run}: {view.status}")


def _verdict(ctx: CampaignContext, give: Callable[[Session], RunView]) -> RunView:
    """Record an approval or rejection in one transaction; a refused one exits with its reason."""
    try:
        with ctx.factory() as session:
            view = give(session)
            session.commit()
    except CampaignStateError as exc:
        raise _fail(str(exc), 1) from None
    return view


@campaign_app.command("issue")
def issue_command(
    run: int,
    actor: ActorOption,
    campaigns: CampaignsOption = Path("campaigns"),
    benefits: BenefitsOption = Path("benefits"),
    register: RegisterOption = None,
    registry: RegistryOption = None,
    local: LocalOption = None,
    url: UrlOption = None,
    output: OutputOption = None,
) -> None:
    """Issue an approved run (again): never a second letter or coupon."""
    ctx = _context(url, register, registry, local, output, None)
    _check_manager(ctx, actor)
    campaign = _run_campaign(ctx, run, campaigns, benefits)
    _issue(ctx, campaign, run, actor)


def _run_campaign(ctx: CampaignContext, run: int, campaigns: Path, benefits: Path) -> Campaign:
    with ctx.factory() as session:
        view = store.get_run(session, run)
    if view is None:
        raise _fail(f"no campaign run {run}", 1)
    return _campaign(view.campaign, campaigns, benefits)


def _issue(ctx: CampaignContext, campaign: Campaign, run: int, actor: str) -> None:
    from entitle.decide.campaign import issue_run

    try:
        result = issue_run(ctx, campaign, run, actor=actor)
    except CampaignStateError as exc:
        raise _fail(str(exc), 1) from None
    except OSError as exc:  # disk full, folder not writable: nothing counts as issued
        where = Path(exc.filename).parent if exc.filename else ctx.output_dir
        why = "disk full (no space left on device)" if exc.errno == errno.ENOSPC else exc.strerror
        raise _fail(
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


@campaign_app.command("simulate")
def simulate_command(
    name: str,
    settings: Annotated[
        list[str], typer.Option("--set", help="PARAM=VALUE (money in euro); repeatable.")
    ],
    as_of: Annotated[str | None, typer.Option("--as-of", help="Decision date YYYY-MM-DD.")] = None,
    campaigns: CampaignsOption = Path("campaigns"),
    benefits: BenefitsOption = Path("benefits"),
    register: RegisterOption = None,
    registry: RegistryOption = None,
    local: LocalOption = None,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """What if a parameter changed? More or fewer reached, and the cost, by band. Stores and
    issues nothing."""
    from entitle.decide.campaign import simulate

    campaign = _campaign(name, campaigns, benefits)
    ctx = _context(url, register, registry, local, None, None)
    try:
        result = simulate(ctx, campaign, settings, _as_of(as_of))
    except (CampaignError, MagdaConfigError) as exc:
        raise _fail(str(exc)) from None
    if as_json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return
    table = Table(title=f"What if {', '.join(settings)} ({campaign.name}, as of {result.as_of})")
    for column in ("", "now", "what-if", "difference"):
        table.add_column(column, justify="right")
    for outcome in ("eligible", "not_eligible", "undetermined"):
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
def abandon_command(
    name: str,
    actor: ActorOption,
    campaigns: CampaignsOption = Path("campaigns"),
    benefits: BenefitsOption = Path("benefits"),
    url: UrlOption = None,
) -> None:
    """Give up the campaign's unfinished run (it issues nothing)."""
    from entitle.decide.campaign import abandon

    campaign = _campaign(name, campaigns, benefits)
    ctx = _context(url, None, None, None, None, None)
    _check_manager(ctx, actor)
    view = abandon(ctx, campaign, actor=actor)
    console.print(f"run #{view.id} abandoned" if view else "no unfinished run")


@campaign_app.command("coupon")
def coupon_command(
    code: str,
    use: Annotated[bool, typer.Option("--use", help="Mark it used (once).")] = False,
    actor: Annotated[str, typer.Option("--as", help="Who uses it (shop, IVAGO).")] = "cli",
    url: UrlOption = None,
) -> None:
    """Check a coupon code (and mark it used). Exit 0 valid (and now used), 1 otherwise."""
    from entitle.decide.coupons import use_coupon, verify_coupon

    ctx = _context(url, None, None, None, None, None)
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
