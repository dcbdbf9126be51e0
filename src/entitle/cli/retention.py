"""`entitle retention show` and `entitle retention apply`: purge what is past its retention
period — database rows, access-log months, letters folders of old campaign runs — and prove it.

`show` counts without changing anything; `apply` purges in one transaction, then checks again
that nothing older than its cut-off is left and that the audit chain still verifies from its
new anchor; the purge itself is an entry of the audit chain. Periods: `ENTITLE_RETENTION_*`.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from entitle.cli.options import JsonOption, UrlOption, fail, parse_moment
from entitle.cli.store import cli_actor, cli_session, console
from entitle.settings import RetentionPolicy
from entitle.sources.access import monthly_files
from entitle.sources.access_index import index_path

if TYPE_CHECKING:  # the database layer is imported by the commands (a quick --help)
    from entitle.store.retention import PurgeReport

retention_app = typer.Typer(
    help="Purge records past their retention period (ENTITLE_RETENTION_* days).",
    no_args_is_help=True,
)

NowOption = Annotated[
    str | None,
    typer.Option("--now", help="Purge as of this moment (ISO date or time; default: now)."),
]
AccessLogOption = Annotated[
    Path | None,
    typer.Option(
        "--access-log",
        help="The registry access log (default: access.jsonl in the data folder).",
        show_default=False,
    ),
]


def _moment(value: str | None) -> datetime:
    moment = parse_moment(value)
    if moment is None:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _access_log(path: Path | None) -> Path:
    if path is not None:
        return path
    from entitle.datadir import data_dir

    return data_dir() / "access.jsonl"


def _old_months(log: Path, cutoff: datetime) -> list[Path]:
    """Access-log months that ended before the cut-off."""
    old = []
    for month, file in monthly_files(log).items():
        year, number = int(month[:4]), int(month[5:])
        first_of_next = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
        if first_of_next <= cutoff:
            old.append(file)
    return old


def _report(
    policy: RetentionPolicy, url: str | None, now: datetime, dry_run: bool, log: Path
) -> tuple[PurgeReport, list[Path], list[Path]]:
    from entitle.store.retention import RetentionError, purge

    with cli_session(url) as session:
        try:
            report = purge(session, policy, actor=cli_actor(), now=now, dry_run=dry_run)
        except RetentionError as exc:
            raise fail(str(exc), 1) from None
    months = _old_months(log, now - timedelta(days=policy.access_log))
    folders = [Path(f) for f in report.run_folders if Path(f).exists()]
    if not dry_run:
        for file in months:
            file.unlink()
            index_path(file).unlink(missing_ok=True)
        for folder in folders:
            shutil.rmtree(folder)
    return report, months, folders


def _print(
    report: PurgeReport, months: list[Path], folders: list[Path], policy: RetentionPolicy
) -> None:
    verb = "would purge" if report.dry_run else "purged"
    table = Table(title=f"Retention as of {report.now:%Y-%m-%d %H:%M} UTC ({verb})")
    for column in ("records", "kept for", "cut-off", verb, "older left"):
        table.add_column(column, justify="left" if column == "records" else "right")
    for line in report.lines:
        kept = f"{line.days} days" if line.days else "until expiry"
        left = "–" if report.dry_run else str(line.left_older)
        table.add_row(line.kind, kept, f"{line.cutoff:%Y-%m-%d}", f"{line.purged:,}", left)
    kept = f"{policy.access_log} days"
    table.add_row("access-log months", kept, "", str(len(months)), "–" if report.dry_run else "0")
    table.add_row("campaign run folders", f"{policy.campaigns} days", "", str(len(folders)), "")
    console.print(table)


@retention_app.command("show")
def retention_show(
    url: UrlOption = None,
    now: NowOption = None,
    access_log: AccessLogOption = None,
    as_json: JsonOption = False,
) -> None:
    """What a purge would remove now, per kind of record; changes nothing."""
    policy = RetentionPolicy()
    report, months, folders = _report(policy, url, _moment(now), True, _access_log(access_log))
    if as_json:
        console.print(json.dumps(_as_json(report, months, folders), default=str), markup=False)
        return
    _print(report, months, folders, policy)


@retention_app.command("apply")
def retention_apply(
    url: UrlOption = None,
    now: NowOption = None,
    access_log: AccessLogOption = None,
    as_json: JsonOption = False,
) -> None:
    """Purge everything past its retention period, then prove it: nothing older is left and
    the audit chain verifies from its new anchor. Exit 1 when either fails."""
    from entitle.store import audit

    policy = RetentionPolicy()
    report, months, folders = _report(policy, url, _moment(now), False, _access_log(access_log))
    with cli_session(url) as session:
        chain = audit.verify(session)
    left_files = [f for f in months if f.exists()] + [f for f in folders if f.exists()]
    proven = report.proven and chain.ok and not left_files
    if as_json:
        document = _as_json(report, months, folders)
        document.update(proven=proven, audit_ok=chain.ok, audit_first_id=chain.first_id)
        console.print(json.dumps(document, default=str), markup=False)
    else:
        _print(report, months, folders, policy)
        if chain.ok:
            console.print(
                f"audit log intact from entry {chain.first_id} to {chain.entries}", markup=False
            )
        else:
            console.print(f"audit log does NOT verify: {chain.problem}", markup=False)
        console.print(
            "proven: nothing older than its cut-off is left"
            if proven
            else "NOT proven: records older than their cut-off are left (see the table)",
            markup=False,
        )
    if not proven:
        raise typer.Exit(1)


def _as_json(report: PurgeReport, months: list[Path], folders: list[Path]) -> dict[str, object]:
    return {
        "now": report.now.isoformat(),
        "dry_run": report.dry_run,
        "records": {
            line.kind: {
                "days": line.days,
                "cutoff": line.cutoff.isoformat(),
                "purged": line.purged,
                "left_older": line.left_older,
            }
            for line in report.lines
        },
        "access_log_months": [f.name for f in months],
        "run_folders": [str(f) for f in folders],
    }
