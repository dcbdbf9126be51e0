"""`entitle inscriptions …`: the KSZ directory inscriptions Entitle holds.

    entitle inscriptions sync CAMPAIGN [--as-of DATE]           a campaign's target
    entitle inscriptions sync --purpose P --from FILE [--start DATE] [--end DATE]
    entitle inscriptions status                                  persons held per purpose

A sync inscribes who the purpose needs for the period, extends what runs out and deregisters who
left; it is idempotent and resumable (run it again after a crash), sends batches, shows a progress
bar, and writes one audit entry with counts (never the INSZ list). Exit codes: 0 done, 1 some
persons failed (run again), 2 bad input or configuration.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from entitle.cli.options import BY_SETTINGS, Where, fail, parse_date, where_options
from entitle.console import cli_console

inscriptions_app = typer.Typer(
    help="KSZ directory inscriptions (Repertorium): sync, status.", no_args_is_help=True
)
console = cli_console(highlight=False)


def _read_insz_file(path: Path) -> list[str]:
    from entitle.insz import InvalidInszError, parse_insz

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise fail(f"--from {path}: {exc.strerror}") from None
    found: list[str] = []
    for number, line in enumerate(lines, start=1):
        value = line.split("#", 1)[0].strip()
        if not value:
            continue
        try:
            found.append(parse_insz(value).normalized)
        except InvalidInszError:
            raise fail(f"--from {path}, line {number}: not a valid INSZ") from None
    return found


@inscriptions_app.command("sync")
@where_options("campaigns", "benefits", "register", "registry", "local", "url")
def sync_command(
    campaign_name: Annotated[
        str | None, typer.Argument(metavar="[CAMPAIGN]", help="The campaign whose target to sync.")
    ] = None,
    purpose: Annotated[
        str | None, typer.Option("--purpose", help="A desk purpose (with --from).")
    ] = None,
    from_file: Annotated[
        Path | None, typer.Option("--from", help="INSZ one per line: who the purpose needs.")
    ] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The run's date.")] = None,
    start: Annotated[str | None, typer.Option("--start", help="Period start (--purpose).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Period end (--purpose).")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, max=10_000)] = 200,
    actor: Annotated[str, typer.Option("--as", help="Who syncs (for the audit log).")] = "cli",
    where: Where = BY_SETTINGS,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Inscribe who a campaign (or a desk purpose) needs; extend; deregister who left."""
    from entitle.decide.campaign.inscriptions import ledger_of, magda_settings, sync_campaign
    from entitle.decide.inscriptions import SyncPlan, check_period, sync_inscriptions
    from entitle.sources.magda import MagdaClient, MagdaConfigError
    from entitle.store import audit

    if (campaign_name is None) == (purpose is None) or (purpose is None) != (from_file is None):
        raise fail("give a CAMPAIGN, or --purpose with --from FILE")
    today = date.today()
    ctx = where.context()
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=as_json,
    )
    task = progress.add_task("inscriptions", total=None)

    def planned(plan: SyncPlan) -> None:
        progress.update(task, total=plan.calls)

    def advanced(count: int) -> None:
        progress.advance(task, count)

    try:
        with progress:
            if campaign_name is not None:
                campaign = where.campaign(campaign_name)
                when = parse_date(as_of) or today
                used_purpose = campaign.benefit.purpose
                result = sync_campaign(
                    ctx,
                    campaign,
                    when,
                    today=today,
                    batch_size=batch_size,
                    on_plan=planned,
                    on_progress=advanced,
                )
            else:
                assert purpose is not None and from_file is not None
                used_purpose = purpose
                first = parse_date(start, "--start") or today
                last = parse_date(end, "--end") or date(today.year, 12, 31)
                check_period(first, last, today)
                wanted = _read_insz_file(from_file)
                with MagdaClient(magda_settings(ctx)) as client:
                    result = sync_inscriptions(
                        client,
                        ledger_of(ctx),
                        purpose=purpose,
                        wanted=wanted,
                        start=first,
                        end=last,
                        today=today,
                        batch_size=batch_size,
                        on_plan=planned,
                        on_progress=advanced,
                    )
    except MagdaConfigError as exc:
        raise fail(f"MAGDA configuration: {exc}") from None
    counts = result.to_json()
    with ctx.factory() as session, session.begin():
        audit.append(
            session,
            kind="inscription",
            actor=actor,
            purpose=used_purpose,
            subject=None,
            outcome="synced" if not result.failed else "partly synced",
            details={"campaign": campaign_name, **counts},
        )
    if as_json:
        print(json.dumps({"purpose": used_purpose, **counts}, indent=2))
    else:
        console.print(
            f"{used_purpose}: {result.inscribed:,} inscribed, {result.extended:,} extended, "
            f"{result.deregistered:,} deregistered, {result.kept:,} already inscribed, "
            f"{result.adopted:,} inscribed for another purpose; "
            f"{result.calls:,} calls"
        )
        if result.failed:
            failed = ", ".join(f"{kind} {n:,}" for kind, n in sorted(result.failed.items()))
            console.print(f"not done (run the sync again): {failed}", markup=False)
    if result.failed:
        raise typer.Exit(1)


@inscriptions_app.command("status")
@where_options("url", "register", "registry", "local")
def status_command(
    where: Where = BY_SETTINGS,
) -> None:
    """Persons inscribed per purpose (counts only)."""
    from entitle.decide.campaign.inscriptions import ledger_of

    ctx = where.context()
    print(json.dumps(ledger_of(ctx).purposes(), indent=2, sort_keys=True))
