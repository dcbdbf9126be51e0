"""`entitle demo`: the whole system on its embedded default, in one command.

The municipality (`entitle.municipality`: Ghent unless ENTITLE_MUNICIPALITY or --municipality
says otherwise) gives the benefits, the campaigns, the city's size and place, and the examples.

    1. the synthetic city (Ghent-sized by default), generated once and reused while its persons,
       seed and municipality stay the same;
    2. the registry simulator — MAGDA's stand-in — as a separate process, on a free port,
       refusing unsigned requests (the demo's test CA, `entitle.demo.signing`) and giving KSZ
       data only for persons inscribed (`entitle.demo.inscriptions`: the desk examples are);
    3. the database (SQLite) and one demo account per role, with random passwords;
    4. the web app (desk, audit pages, API) as a separate process, configured through the
       environment as in production;
    5. "ready", the URL, the logins and INSZ to try at the desk, one per outcome and benefit;
    6. the campaigns (`run_demo_campaigns`), in the background: a Ghent-sized run takes minutes;
       then one week of follow-up (`entitle.demo.follow_up`);
    7. Ctrl-C (or SIGTERM, SIGHUP) stops every process it started, also when start-up fails.

Everything lives in one folder (`DemoLayout`): ``city/``, ``entitle.db``, ``state/`` (pseudonym
and coupon keys, access log), ``campaigns/`` (letters), ``logs/`` (the children's output) and
``demo-accounts.json``.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from entitle.demo.examples import BenefitExamples, desk_examples, print_desk_examples
from entitle.demo.inscriptions import SETTINGS_ENV as INSCRIPTIONS_ENV
from entitle.demo.inscriptions import inscribe_desk_examples
from entitle.demo.inscriptions import simulator_options as inscription_options
from entitle.demo.procs import (
    Child,
    DemoError,
    Stop,
    StopSignals,
    free_port,
    port_is_free,
    start_child,
    stop_children,
    wait_until_ready,
)
from entitle.demo.signing import ensure_signing_files
from entitle.municipality import Municipality, MunicipalityError, load_municipality
from entitle.private_files import private_folder
from entitle.settings import child_environment, settings

DEFAULT_SEED = 1
DEFAULT_WEB_PORT = 8000
HOST = "127.0.0.1"
# the web app with the city's ground truth wired in: the dashboard's runs show their reach
DEMO_APP = ("--app-factory", "entitle.demo.web:app_from_env")
# The simulator without an authorisation file allows every sender and capacity (development
# mode); the web app must still send some, as it would to MAGDA.
DEMO_SENDER = "demo.entitle.local"
DEMO_CAPACITY = "DEMO"
# (username, role, what the role is called)
DEMO_ACCOUNTS = (
    ("desk", "desk_officer", "desk officer"),
    ("campaign", "campaign_manager", "campaign manager"),
    ("admin", "administrator", "administrator"),
    ("auditor", "auditor", "auditor"),
    ("shop", "coupon_verifier", "coupon verifier"),
)
PASSWORD_ALPHABET = (  # nosec B105  # an alphabet for demo passwords, not a password
    "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
)
WEB_START_TIMEOUT = 90.0


def default_data_dir() -> Path:
    """The demo's folder under the user's data folder (ENTITLE_DATA_DIR or XDG_DATA_HOME)."""
    from entitle.datadir import data_dir

    return data_dir() / "demo"


def default_benefits(municipality: Municipality) -> Path:
    """ENTITLE_BENEFITS, else the municipality's benefits folder."""
    given = settings()
    return given.benefits if given.is_set("benefits") else municipality.benefits


def default_campaigns(municipality: Municipality) -> Path:
    """ENTITLE_CAMPAIGNS, else the municipality's campaigns folder."""
    given = settings()
    return given.campaigns if given.is_set("campaigns") else municipality.campaigns


def desk_date() -> date:
    """The date the web app decides on: today in Brussels (`entitle.web.app.WebState.today`)."""
    from entitle.web.i18n import BRUSSELS

    return datetime.now(BRUSSELS).date()


@dataclass(frozen=True)
class DemoOptions:
    data: Path
    municipality: str | None = None  # None: the configured one (ENTITLE_MUNICIPALITY, else Ghent)
    benefits: Path | None = None  # None: the municipality's (`default_benefits`)
    campaigns: Path | None = None  # None: the municipality's (`default_campaigns`)
    persons: int | None = None  # None: the municipality's demo size
    seed: int = DEFAULT_SEED
    port: int | None = None  # the web app's; None: 8000 when free, else any free port
    open_browser: bool = False


@dataclass(frozen=True)
class DemoLayout:
    """Where the demo keeps everything, under one folder."""

    root: Path

    @property
    def city(self) -> Path:
        return self.root / "city"

    @property
    def database(self) -> Path:
        return self.root / "entitle.db"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database}"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def campaigns(self) -> Path:
        return self.root / "campaigns"

    @property
    def accounts(self) -> Path:
        return self.root / "demo-accounts.json"

    @property
    def lock(self) -> Path:
        return self.root / "demo.lock"


# --------------------------------------------------------------------------- the data folder


@contextmanager
def _locked(layout: DemoLayout) -> Iterator[None]:
    """One demo per folder: a second one would share the SQLite database and the city."""
    try:
        private_folder(layout.root)
        handle = layout.lock.open("a+", encoding="utf-8")
    except OSError as exc:
        raise DemoError(f"cannot use the data folder {layout.root}: {exc}") from None
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            raise DemoError(
                f"another `entitle demo` (pid {holder}) is running on {layout.root}; stop it "
                "first or choose another folder with --data"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()  # releases the lock


def ensure_city(
    city: Path,
    persons: int,
    seed: int,
    console: Console,
    municipality: str = "ghent",
    *,
    as_of: date,
) -> tuple[dict[str, Any], bool]:
    """The synthetic city of `municipality` in `city` as it stands on `as_of` (the desk's date):
    reused when its meta.json has these persons, seed and NIS code (and this generator version),
    the school year and income years of `as_of`, and every file is there, else generated for
    `as_of` with a progress bar. Returns (meta, reused)."""
    from entitle.registry.synth import (
        FILES,
        GENERATOR_VERSION,
        SynthError,
        check_arguments,
        read_meta,
    )
    from entitle.registry.synth_money import income_years
    from entitle.registry.synth_place import place_for
    from entitle.registry.synth_progress import write_city_shown
    from entitle.rules.periods import school_year

    try:
        place = place_for(municipality)
        check_arguments(persons, seed)
    except (SynthError, ValueError) as exc:
        raise DemoError(str(exc)) from None
    try:
        meta = read_meta(city)
    except SynthError:
        meta = None
    if (
        meta is not None
        and meta.get("persons") == persons
        and meta.get("seed") == seed
        and meta.get("municipality_nis") == place.nis
        and meta.get("version") == GENERATOR_VERSION
        and meta.get("school_year") == school_year(as_of)
        and meta.get("income_years") == list(income_years(as_of))
        and all((city / path).is_file() for path in FILES)
    ):
        return meta, True
    try:
        meta = write_city_shown(
            persons,
            seed,
            city,
            place,
            as_of,
            console=console,
            title=f"synthetic city ({place.name}): {persons:,} persons",
            prefix="synthetic city: ",
        )
    except SynthError as exc:
        raise DemoError(f"synthetic city: {exc}") from None
    except MemoryError:
        raise DemoError(f"synthetic city: out of memory for {persons:,} persons") from None
    return meta, False


def _new_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(14))


def _read_accounts(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}  # unreadable: new passwords (the accounts are reset to them)
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


def _write_accounts(path: Path, passwords: dict[str, str]) -> None:
    text = json.dumps(passwords, indent=2, sort_keys=True) + "\n"
    partial = path.with_suffix(".tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(partial, path)


def _password_matches(password_hash: str | None, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    from entitle.store import users

    if not password_hash:
        return False
    try:
        return users.hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def ensure_accounts(database_url: str, accounts_file: Path) -> dict[str, str]:
    """Migrate the database and make sure every demo account exists, is active and unlocked, and
    has its password from `accounts_file` (random passwords, made on the first start).
    Idempotent: a restart keeps the accounts and their passwords. Returns username -> password."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from entitle.store import users
    from entitle.store.db import make_engine, migrate, session_factory
    from entitle.store.models import User

    passwords = _read_accounts(accounts_file)
    missing = [name for name, _, _ in DEMO_ACCOUNTS if name not in passwords]
    try:
        if missing:
            passwords.update({name: _new_password() for name in missing})
            _write_accounts(accounts_file, passwords)
    except OSError as exc:
        raise DemoError(f"cannot write {accounts_file}: {exc}") from None
    engine = None
    try:
        migrate(database_url)
        engine = make_engine(database_url)
        with session_factory(engine)() as session:
            for username, role, _ in DEMO_ACCOUNTS:
                password = passwords[username]
                user = session.scalar(select(User).where(User.username == username))
                if user is None:
                    users.add_user(session, username, password, role)
                    continue
                user.role, user.active = role, True
                user.failed_logins, user.failed_since, user.locked_until = 0, None, None
                if not _password_matches(user.password_hash, password):
                    user.password_hash = users.hasher.hash(password)
            session.commit()
    except (SQLAlchemyError, users.UserError) as exc:
        raise DemoError(f"database {database_url}: {exc}") from None
    finally:
        if engine is not None:
            engine.dispose()
    return {name: passwords[name] for name, _, _ in DEMO_ACCOUNTS}


# --------------------------------------------------------------------------- campaigns


def run_demo_campaigns(
    *,
    layout: DemoLayout,
    registry_url: str,
    benefits: Path,
    campaigns: Path,
    names: tuple[str, ...],
    env: dict[str, str],
    dates: dict[str, date] | None = None,
) -> Child | None:
    """Start the demo's proactive campaigns `names` (the municipality's demo campaigns; Ghent's:
    garbage bags) against the registry simulator, in a process of their own that runs in the
    background once the desk is ready: a Ghent-sized run takes minutes, longer than the set-up
    may. Each run ends as a draft for the campaign manager; a campaign that already has a
    finished run is not run again. None when there are no campaign files or names."""
    if not campaigns.is_dir() or not names:
        return None
    private_folder(layout.campaigns)
    return start_child(
        "campaigns",
        [
            sys.executable,
            "-m",
            "entitle.demo.campaigns",
            "--database-url",
            layout.database_url,
            "--register",
            str(layout.city / "registry"),
            "--state",
            str(layout.state),
            "--output",
            str(layout.campaigns),
            "--campaigns",
            str(campaigns),
            "--benefits",
            str(benefits),
            "--registry",
            registry_url,
            *(f"--as-of={name}={day.isoformat()}" for name, day in (dates or {}).items()),
            *names,
        ],
        env=env,
        log_path=layout.logs / "campaigns.log",
        cwd=layout.root,
    )


# --------------------------------------------------------------------------- run


def _child_env(
    layout: DemoLayout, municipality: Municipality, benefits: Path, registry_url: str | None
) -> dict[str, str]:
    """The parent's environment without its Entitle settings (the demo is self-contained), and
    the demo's own."""
    env = child_environment()
    env["PYTHONUNBUFFERED"] = "1"  # the logs show what happened up to a crash
    env["ENTITLE_MUNICIPALITY"] = municipality.id
    env["ENTITLE_MUNICIPALITIES"] = str(municipality.path.parent.resolve())
    if registry_url is not None:
        env.update(
            ENTITLE_DATABASE_URL=layout.database_url,
            ENTITLE_MAGDA_BASE_URL=registry_url,
            ENTITLE_MAGDA_SENDER=DEMO_SENDER,
            ENTITLE_MAGDA_DEFAULT_CAPACITY=DEMO_CAPACITY,
            ENTITLE_DATA_DIR=str(layout.state),
            ENTITLE_BENEFITS=str(benefits),
        )
    return env


def _web_port(requested: int | None) -> int:
    if requested is not None:
        if not port_is_free(requested, HOST):
            raise DemoError(f"--port {requested}: the port is in use; choose another one")
        return requested
    return DEFAULT_WEB_PORT if port_is_free(DEFAULT_WEB_PORT, HOST) else free_port(HOST)


def _print_ready(
    console: Console,
    *,
    layout: DemoLayout,
    url: str,
    registry_url: str,
    children: list[Child],
    passwords: dict[str, str],
    examples: list[BenefitExamples],
    as_of: date,
    seconds: float,
) -> None:
    registry, web = children[0], children[1]
    console.print()
    console.print(
        f"Registry simulator (stands in for MAGDA): {registry_url}   pid {registry.pid}",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"Web app (desk, audit, API):               {url}   pid {web.pid}",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"Data: {layout.root}   (city, database, logs: {layout.logs}; "
        "readable by you only: folders 0700, files 0600)",
        highlight=False,
        soft_wrap=True,
    )
    console.print()
    console.print(
        "[bold]Demo accounts[/bold] — for this demo only, never for real data: anyone who can "
        f"read this can sign in. Random passwords, kept in {layout.accounts}:",
        highlight=False,
        soft_wrap=True,
    )
    for username, _role, label in DEMO_ACCOUNTS:
        console.print(
            f"  {label:<17} {username:<9} {passwords[username]}", highlight=False, soft_wrap=True
        )
    console.print()
    print_desk_examples(console, examples, as_of)
    console.print()
    console.print(
        f"[bold green]ready[/bold green] in {seconds:.1f} s: {url}   "
        "(sign in as [bold]desk[/bold]; Ctrl-C stops everything)",
        highlight=False,
        soft_wrap=True,
    )


def _start(
    name: str,
    module: str,
    arguments: list[str],
    *,
    layout: DemoLayout,
    env: dict[str, str],
    children: list[Child],
    signals: StopSignals,
) -> Child:
    """Start `python -m module arguments…` and note it at once (no signal in between)."""
    with signals.shield():
        child = start_child(
            name,
            [sys.executable, "-m", module, *arguments],
            env=env,
            log_path=layout.logs / f"{name.split()[0]}.log",
            cwd=layout.root,
        )
        children.append(child)
    return child


def _campaigns_ended(console: Console, child: Child) -> None:
    """Say how the background campaigns ended (the last lines of their log)."""
    code = child.process.poll()
    lines = child.log_tail(40).splitlines()
    if code == 0:
        for line in lines:
            if ": run #" in line or ": inscriptions " in line:
                console.print(f"Campaign {line}", highlight=False, soft_wrap=True)
            elif line.startswith(("city moved", "follow-up baseline", "follow-up week")):
                console.print(line[:1].upper() + line[1:], highlight=False, soft_wrap=True)
        return
    console.print(
        f"[yellow]The campaigns stopped with exit code {code}[/yellow] (the desk works on); "
        f"{child.log_path} ends with:\n{child.log_tail(5)}",
        highlight=False,
        soft_wrap=True,
    )


def _watch(
    children: list[Child], campaigns: Child | None, console: Console, signals: StopSignals
) -> None:
    """Until a stop signal: the servers must keep running; the campaigns may end."""
    servers = [child for child in children if child is not campaigns]
    watching = campaigns
    while True:
        signals.check()
        for child in servers:
            exit_code = child.process.poll()
            if exit_code is not None:
                raise DemoError(
                    f"the {child.name} stopped unexpectedly (exit code {exit_code}); "
                    f"its log {child.log_path} ends with:\n{child.log_tail()}"
                )
        if watching is not None and not watching.alive():
            _campaigns_ended(console, watching)
            watching = None
        time.sleep(0.5)


def run_demo(options: DemoOptions, console: Console, errors: Console) -> int:
    """Start everything, wait for a stop signal, stop everything. Returns the exit code."""
    from entitle.registry.population import PopulationError
    from entitle.rules.folder import BenefitFolderError, load_benefits

    try:
        municipality = load_municipality(options.municipality)
    except MunicipalityError as exc:
        errors.print(f"demo: {exc}", style="red", markup=False, highlight=False)
        return 1
    persons = options.persons or municipality.demo_persons
    layout = DemoLayout(options.data.expanduser().resolve())
    benefits_dir = (options.benefits or default_benefits(municipality)).expanduser().resolve()
    campaigns_dir = (options.campaigns or default_campaigns(municipality)).expanduser().resolve()
    signals = StopSignals()
    signals.install()
    children: list[Child] = []
    code = 0
    started = time.perf_counter()
    try:
        with _locked(layout):
            try:
                benefits = load_benefits(benefits_dir)
                as_of = desk_date()  # the city, the desk and the campaigns: the same school year
                meta, reused = ensure_city(
                    layout.city, persons, options.seed, console, municipality.id, as_of=as_of
                )
                console.print(
                    f"{'Reusing the' if reused else 'Generated a'} synthetic city of "
                    f"{meta['persons']:,} persons ({municipality.name['en']}), seed "
                    f"{meta['seed']}, as of {meta['reference_date']} (school year "
                    f"{meta['school_year']}), in {layout.city}",
                    highlight=False,
                    soft_wrap=True,
                )
                registry_port = free_port(HOST)
                registry_url = f"http://{HOST}:{registry_port}"
                signing = ensure_signing_files(layout.state / "magda-test-ca")
                registry = _start(
                    "registry simulator",
                    "entitle.registry.server_cli",
                    [
                        "serve",
                        "--data",
                        str(layout.city),
                        "--port",
                        str(registry_port),
                        *signing.simulator_options(),
                        *inscription_options(layout.state),
                    ],
                    layout=layout,
                    env=_child_env(layout, municipality, benefits_dir, None),
                    children=children,
                    signals=signals,
                )
                console.print(
                    f"Starting the registry simulator (pid {registry.pid}) on {registry_url}",
                    highlight=False,
                )
                # while the simulator loads the city: the database, the accounts, the examples
                passwords = ensure_accounts(layout.database_url, layout.accounts)
                console.print(
                    f"Database {layout.database} is up to date; {len(passwords)} demo accounts",
                    highlight=False,
                    soft_wrap=True,
                )
                examples = desk_examples(layout.city, benefits, as_of, municipality.demo_examples)
                timeout = max(60.0, persons / 5_000)
                wait_until_ready(registry, f"{registry_url}/health", timeout, signals)
                console.print("Registry simulator ready", highlight=False)
                calls = inscribe_desk_examples(
                    city=layout.city,
                    benefits=benefits,
                    examples=examples,
                    as_of=as_of,
                    database_url=layout.database_url,
                    magda={
                        "base_url": registry_url,
                        "sender": DEMO_SENDER,
                        "default_capacity": DEMO_CAPACITY,
                        "require_inscriptions": True,
                        "signing": signing.settings(),
                    },
                )
                console.print(
                    f"Desk examples inscribed in the KSZ directory ({calls:,} calls)",
                    highlight=False,
                )
                web_port = _web_port(options.port)
                url = f"http://{HOST}:{web_port}/"
                env = _child_env(layout, municipality, benefits_dir, registry_url)
                env.update(signing.settings_env())  # requests are signed, as for MAGDA
                env.update(INSCRIPTIONS_ENV)  # and KSZ data needs inscriptions, as for MAGDA
                # the dashboard reviews and issues the runs: it needs the campaign files, the
                # register extract, the letters folder and the city's truth (reach figures)
                env.update(
                    ENTITLE_CAMPAIGNS=str(campaigns_dir),
                    ENTITLE_REGISTER_EXTRACT=str(layout.city / "registry"),
                    ENTITLE_CAMPAIGN_OUTPUT=str(layout.campaigns),
                    ENTITLE_TRUTH=str(layout.city),
                )
                web = _start(
                    "web app",
                    "entitle.cli.web",
                    ["serve", "--host", HOST, "--port", str(web_port), *DEMO_APP],
                    layout=layout,
                    env=env,
                    children=children,
                    signals=signals,
                )
                console.print(f"Starting the web app (pid {web.pid}) on {url}", highlight=False)
                wait_until_ready(web, f"{url}healthz", WEB_START_TIMEOUT, signals)
                with signals.shield():
                    campaigns = run_demo_campaigns(
                        layout=layout,
                        registry_url=registry_url,
                        benefits=benefits_dir,
                        campaigns=campaigns_dir,
                        names=municipality.demo_campaigns,
                        env=env,
                        dates=municipality.demo_campaign_dates,
                    )
                    if campaigns is not None:
                        children.append(campaigns)
            except (BenefitFolderError, PopulationError) as exc:
                raise DemoError(str(exc)) from None
            except OSError as exc:
                raise DemoError(f"{exc}") from None
            _print_ready(
                console,
                layout=layout,
                url=url,
                registry_url=registry_url,
                children=children,
                passwords=passwords,
                examples=examples,
                as_of=as_of,
                seconds=time.perf_counter() - started,
            )
            if campaigns is not None:
                console.print(
                    f"Campaigns run in the background (pid {campaigns.pid}; progress in "
                    f"{campaigns.log_path}): {', '.join(municipality.demo_campaigns)}. Each run "
                    "ends as a draft for the campaign manager; then the city moves one week "
                    "forward and the week is followed up (`entitle watch run`, on the dashboard). "
                    "A Ghent-sized city takes minutes, and on the first start longer: each "
                    "target is inscribed in the KSZ directory first, a call per person.",
                    highlight=False,
                    soft_wrap=True,
                )
            if options.open_browser:
                import webbrowser

                webbrowser.open(url)
            _watch(children, campaigns, console, signals)
    except Stop as stop:
        console.print(f"\n{stop.name}: stopping …", highlight=False)
    except DemoError as exc:
        errors.print(f"demo: {exc}", style="red", markup=False, highlight=False)
        code = 1
    finally:
        signals.stopping()
        left = stop_children(children, signals)
        signals.restore()
        if left:
            errors.print(
                f"demo: still running after SIGKILL: {', '.join(left)}",
                style="red",
                markup=False,
                highlight=False,
            )
            code = 1
        elif children:
            stopped = ", ".join(f"{c.name} (pid {c.pid})" for c in children)
            console.print(
                f"Stopped {stopped}; nothing left running.", highlight=False, soft_wrap=True
            )
    return code
