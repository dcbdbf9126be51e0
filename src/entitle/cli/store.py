"""`entitle users …`, `entitle audit …` and `entitle db …`.

The commands act with the operating-system user's authority (`cli:<login>` in the audit log);
account changes and auditor look-ups are themselves audited.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from entitle.cli.options import JsonOption, UrlOption, fail, parse_moment
from entitle.cli.settings import env_help
from entitle.console import cli_console
from entitle.private_files import private_file
from entitle.settings import settings
from entitle.store.roles import ROLES

if TYPE_CHECKING:  # the database layer is imported by the commands (a quick --help)
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

users_app = typer.Typer(help="Accounts and API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)

console = cli_console(highlight=False)


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli"


def _unreachable(url: str | None, exc: OperationalError) -> typer.Exit:
    """Say that the database cannot be reached (its address redacted); the exit to raise."""
    from entitle.store.db import redacted

    return fail(f"cannot reach the database {redacted(url)}: {exc.orig}")


@contextmanager
def cli_session(url: str | None) -> Iterator[Session]:
    """A session on a migrated database; exit 2 with a hint otherwise. Commits on success."""
    from sqlalchemy.exc import OperationalError

    from entitle.store.db import make_engine, redacted, schema_is_current, session_factory

    engine = make_engine(url)
    try:
        try:
            current = schema_is_current(engine)
        except OperationalError as exc:
            raise _unreachable(url, exc) from None
        if not current:
            raise fail(
                f"the database {redacted(url)} is not initialised or not up to date: "
                "run `entitle db upgrade`"
            )
        with session_factory(engine)() as session:
            yield session
            session.commit()
    finally:
        engine.dispose()


# --- entitle db --------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(url: UrlOption = None) -> None:
    """Create or upgrade the schema to the newest migration."""
    from sqlalchemy.exc import OperationalError

    from entitle.store.db import head_revision, migrate, redacted

    try:
        migrate(url)
    except OperationalError as exc:
        raise _unreachable(url, exc) from None
    console.print(f"database {redacted(url)} is at revision {head_revision()}", markup=False)


@db_app.command("current")
def db_current(url: UrlOption = None) -> None:
    """Show the schema revision; exit 1 when the database needs `entitle db upgrade`."""
    from sqlalchemy.exc import OperationalError

    from entitle.store.db import current_revision, head_revision, make_engine, redacted

    engine = make_engine(url)
    try:
        current = current_revision(engine)
    except OperationalError as exc:
        raise _unreachable(url, exc) from None
    finally:
        engine.dispose()
    head = head_revision()
    state = "up to date" if current == head else "needs `entitle db upgrade`"
    console.print(
        f"{redacted(url)}: revision {current or 'none'} (newest {head}): {state}", markup=False
    )
    raise typer.Exit(0 if current == head else 1)


# --- entitle users ------------------------------------------------------------------------------


def _audit_account_change(session: Session, outcome: str, details: dict[str, Any]) -> None:
    """The audit entry of an account change made on the command line."""
    from entitle.store import audit

    audit.append(
        session,
        kind="admin",
        actor=cli_actor(),
        purpose="account-administration",
        subject=None,
        outcome=outcome,
        details=details,
    )


@users_app.command("add")
def users_add(
    username: str,
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    url: UrlOption = None,
) -> None:
    """Add a local account (the password is asked twice, or read from standard input)."""
    from entitle.store.users import UserError, add_user

    if role not in ROLES:
        raise fail(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    with cli_session(url) as session:
        try:
            user = add_user(session, username, password, role)
        except UserError as exc:
            raise fail(str(exc)) from None
        _audit_account_change(session, "user_added", {"username": user.username, "role": user.role})
    console.print(f"added {user.username} ({user.role})", markup=False)


@users_app.command("list")
def users_list(url: UrlOption = None, as_json: JsonOption = False) -> None:
    """List accounts."""
    from entitle.store.users import list_users

    with cli_session(url) as session:
        users = list_users(session)
    if as_json:
        print(json.dumps([u.__dict__ for u in users], ensure_ascii=False, indent=2))
        return
    table = Table("id", "username", "role", "active")
    for user in users:
        table.add_row(str(user.id), user.username, user.role, "yes" if user.active else "no")
    console.print(table)


@users_app.command("disable")
def users_disable(username: str, url: UrlOption = None) -> None:
    """Disable an account and end its sessions."""
    from entitle.store.users import UserError, disable_user

    with cli_session(url) as session:
        try:
            disable_user(session, username)
        except UserError as exc:
            raise fail(str(exc)) from None
        _audit_account_change(session, "user_disabled", {"username": username})
    console.print(f"disabled {username}", markup=False)


@users_app.command("token")
def users_token(
    client: str,
    purpose: Annotated[list[str], typer.Option("--purpose", help="Allowed purpose (repeat).")],
    benefit: Annotated[list[str], typer.Option("--benefit", help="Allowed benefit (repeat).")],
    url: UrlOption = None,
) -> None:
    """Create an API token for a machine client; the secret is printed once."""
    from entitle.store.users import UserError, create_api_token

    with cli_session(url) as session:
        try:
            secret = create_api_token(session, client, purpose, benefit)
        except UserError as exc:
            raise fail(str(exc)) from None
        _audit_account_change(
            session, "token_created", {"client": client, "purposes": purpose, "benefits": benefit}
        )
    print(secret)


# --- entitle audit ------------------------------------------------------------------------------


KeyFileOption = Annotated[
    Path | None,
    typer.Option(
        "--key-file",
        help=env_help(
            "Checkpoint key, kept outside the database (default: <data dir>/checkpoint.key).",
            "audit_checkpoint_key",
        ),
        show_default=False,
    ),
]


def _checkpoint_key(path: Path | None, *, create: bool = False) -> bytes:
    from entitle.datadir import data_dir
    from entitle.store import checkpoint

    path = path or settings().audit_checkpoint_key
    try:
        return checkpoint.load_key(path or data_dir() / "checkpoint.key", create=create)
    except checkpoint.CheckpointError as exc:
        raise fail(str(exc)) from None


@audit_app.command("verify")
def audit_verify(
    url: UrlOption = None,
    expect_head: Annotated[
        str | None,
        typer.Option(
            "--expect-head", help="A head hash noted earlier: it must still be in the chain."
        ),
    ] = None,
    checkpoint_file: Annotated[
        Path | None,
        typer.Option("--checkpoint", help="A signed checkpoint (`entitle audit checkpoint`)."),
    ] = None,
    key_file: KeyFileOption = None,
) -> None:
    """Check the whole hash chain and the decisions and overrides it names; exit 0 when intact,
    1 when tampered with (or cut back behind --expect-head or --checkpoint), 2 on a bad
    checkpoint file."""
    from entitle.store import audit, checkpoint

    expected: list[tuple[str, int | None]] = []
    if expect_head is not None:
        expected.append((expect_head.strip().lower(), None))
    if checkpoint_file is not None:
        key = _checkpoint_key(key_file)
        try:
            mark = checkpoint.parse(checkpoint_file.read_text(encoding="utf-8"), key)
        except (OSError, checkpoint.CheckpointError) as exc:
            raise fail(f"{checkpoint_file}: {exc}") from None
        expected.append((mark.head, mark.sequence))
    with cli_session(url) as session:
        report = audit.verify(session)
        cut = [
            problem
            for head, sequence in expected
            if (problem := checkpoint.missing_head(session, head, sequence)) is not None
        ]
    if report.ok and not cut:
        kept = f"{report.entries} entries"
        if report.first_id > 1:
            kept = (
                f"entries {report.first_id}–{report.entries} "
                f"(1–{report.first_id - 1} purged by retention)"
            )
        console.print(f"audit log intact: {kept}, head {report.head_hash}", markup=False)
        return
    if not report.ok:
        console.print(
            f"audit log TAMPERED: first bad entry {report.first_bad}: {report.problem} "
            f"({report.entries} entries before it are intact)",
            markup=False,
        )
    for problem in cut:
        console.print(f"audit log TAMPERED: {problem}", markup=False)
    raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint(
    url: UrlOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write it to this file (default: print it).")
    ] = None,
    key_file: KeyFileOption = None,
) -> None:
    """Sign the chain's head (sequence number, hash, time) with a key kept outside the
    database; keep the result elsewhere and give it to `entitle audit verify --checkpoint`."""
    from entitle.store import checkpoint

    key = _checkpoint_key(key_file, create=True)
    with cli_session(url) as session:
        try:
            mark = checkpoint.take(session, key)
        except checkpoint.CheckpointError as exc:
            raise fail(str(exc), 1) from None
    if out is None:
        print(mark.to_json())
        return
    private_file(out).write_text(mark.to_json() + "\n", encoding="utf-8")
    console.print(f"checkpoint of entry {mark.sequence} written to {out}", markup=False)


def _audit_look_up(
    session: Session,
    kind: str,
    purpose: str,
    subject: str | None,
    entries: list[dict[str, Any]],
    details: dict[str, Any] | None = None,
) -> None:
    """The audit entry of a look-up in the audit log made on the command line (what was asked,
    how many entries were found)."""
    from entitle.store import audit

    audit.append(
        session,
        kind=kind,
        actor=cli_actor(),
        purpose=purpose,
        subject=subject,
        outcome=f"{len(entries)} entries",
        details=details,
    )


def _print_entries(entries: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print(json.dumps(entries, ensure_ascii=False, indent=2))
        return
    table = Table("id", "time", "kind", "actor", "purpose", "subject", "outcome")
    for e in entries:
        table.add_row(
            str(e["id"]),
            e["time"][:19],
            e["kind"],
            e["actor"],
            e["purpose"] or "",
            e["subject"] or "",
            e["outcome"] or "",
        )
    console.print(table)


@audit_app.command("search")
def audit_search(
    actor: Annotated[str | None, typer.Option(help="Who acted.")] = None,
    subject: Annotated[str | None, typer.Option(help="Subject pseudonym.")] = None,
    kind: Annotated[str | None, typer.Option(help="check, override, login, export, …")] = None,
    since: Annotated[str | None, typer.Option(help="From (ISO 8601, inclusive).")] = None,
    until: Annotated[str | None, typer.Option(help="Until (ISO 8601, exclusive).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 200,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Search the audit log (the search is itself audited)."""
    from entitle.store import audit

    filters = {"actor": actor, "subject": subject, "kind": kind, "since": since, "until": until}
    with cli_session(url) as session:
        entries = audit.search(
            session,
            actor=actor,
            subject=subject,
            kind=kind,
            since=parse_moment(since, "--since"),
            until=parse_moment(until, "--until"),
            limit=limit,
        )
        searched = {k: v for k, v in filters.items() if v is not None and k != "subject"}
        _audit_look_up(session, "audit_search", "audit", subject, entries, searched)
    _print_entries(entries, as_json)


@audit_app.command("subject")
def audit_subject(
    insz: str,
    key_file: Annotated[
        Path | None,
        typer.Option("--key-file", help="Pseudonym key (default: <data dir>/pseudonym.key)."),
    ] = None,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Subject-access report: every logged access to one person's data, by INSZ."""
    from entitle.datadir import data_dir
    from entitle.insz import InvalidInszError, parse_insz
    from entitle.sources.access import Pseudonymiser
    from entitle.store import audit

    try:
        number = parse_insz(insz).normalized
    except InvalidInszError as exc:
        raise fail(f"invalid INSZ {insz!r}: {exc}") from None
    path = key_file or data_dir() / "pseudonym.key"
    if not path.exists():
        raise fail(f"no pseudonym key at {path}: nothing can have been logged")
    pseudonym = Pseudonymiser.from_key_file(path)(number)
    with cli_session(url) as session:
        entries = audit.subject_report(session, pseudonym)
        _audit_look_up(session, "subject_report", "subject-access-request", pseudonym, entries)
    if as_json:
        print(json.dumps({"subject": pseudonym, "entries": entries}, ensure_ascii=False, indent=2))
        return
    console.print(f"subject {pseudonym}: {len(entries)} entries", markup=False)
    _print_entries(entries, as_json=False)


@audit_app.command("alerts")
def audit_alerts(url: UrlOption = None, as_json: JsonOption = False) -> None:
    """Unusual check volumes per officer in the last 24 hours."""
    from entitle.store import audit

    with cli_session(url) as session:
        alerts = audit.unusual_activity(session)
    if as_json:
        print(json.dumps(alerts, ensure_ascii=False, indent=2))
        return
    if not alerts:
        console.print("no unusual activity in the last 24 hours")
        return
    table = Table("hour (UTC)", "actor", "checks", "subjects", "usual", "why")
    for a in alerts:
        usual = "" if a["baseline_median"] is None else f"{a['baseline_median']:g}"
        table.add_row(
            a["hour"][:16],
            a["actor"],
            str(a["checks"]),
            str(a["distinct_subjects"]),
            usual,
            "; ".join(a["reasons"]),
        )
    console.print(table)
