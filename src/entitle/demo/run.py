"""`entitle demo`: the whole system on its embedded default, in one command (`run_demo`).

The municipality (`entitle.municipality`: Ghent unless ENTITLE_MUNICIPALITY or --municipality
says otherwise) gives the benefits, the campaigns, the city's size and place, and the examples.

    1. the synthetic city (Ghent-sized by default), generated once and reused while its persons,
       seed and municipality stay the same (`entitle.demo.city`);
    2. the registry simulator — MAGDA's stand-in — as a separate process, on a free port,
       refusing unsigned requests (the demo's test CA, `entitle.demo.signing`) and giving KSZ
       data only for persons inscribed (`entitle.demo.inscriptions`: the desk examples are);
    3. the database (SQLite) and one demo account per role, with random passwords
       (`entitle.demo.accounts`);
    4. the web app (desk, audit pages, API) as a separate process, configured through the
       environment as in production (`entitle.demo.children`);
    5. "ready", the URL, the logins and INSZ to try at the desk, one per outcome and benefit
       (`entitle.demo.summary`);
    6. the campaigns (`entitle.demo.campaigns`), in the background: a Ghent-sized run takes
       minutes; then one week of follow-up (`entitle.demo.follow_up`);
    7. Ctrl-C (or SIGTERM, SIGHUP) stops every process it started, also when start-up fails
       (`entitle.demo.procs`).

Everything lives in one folder (`entitle.demo.layout`).
"""

from __future__ import annotations

import time

from rich.console import Console

from entitle.demo.accounts import ensure_accounts
from entitle.demo.children import (
    DEMO_APP,
    DEMO_CAPACITY,
    DEMO_SENDER,
    child_env,
    run_demo_campaigns,
    start,
)
from entitle.demo.city import ensure_city
from entitle.demo.examples import desk_examples
from entitle.demo.inscriptions import SETTINGS_ENV as INSCRIPTIONS_ENV
from entitle.demo.inscriptions import inscribe_desk_examples
from entitle.demo.inscriptions import simulator_options as inscription_options
from entitle.demo.layout import DemoLayout, locked
from entitle.demo.options import DemoOptions, default_benefits, default_campaigns, desk_date
from entitle.demo.procs import (
    Child,
    DemoError,
    Stop,
    StopSignals,
    free_port,
    port_is_free,
    stop_children,
    wait_until_ready,
)
from entitle.demo.signing import ensure_signing_files
from entitle.demo.summary import campaigns_ended, print_campaigns_started, print_ready
from entitle.municipality import MunicipalityError, load_municipality

DEFAULT_WEB_PORT = 8000
HOST = "127.0.0.1"
WEB_START_TIMEOUT = 90.0


def _web_port(requested: int | None) -> int:
    if requested is not None:
        if not port_is_free(requested, HOST):
            raise DemoError(f"--port {requested}: the port is in use; choose another one")
        return requested
    return DEFAULT_WEB_PORT if port_is_free(DEFAULT_WEB_PORT, HOST) else free_port(HOST)


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
            campaigns_ended(console, watching)
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
        with locked(layout):
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
                registry = start(
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
                    env=child_env(layout, municipality, benefits_dir, None),
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
                env = child_env(layout, municipality, benefits_dir, registry_url)
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
                web = start(
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
            print_ready(
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
                print_campaigns_started(console, campaigns, municipality.demo_campaigns)
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
