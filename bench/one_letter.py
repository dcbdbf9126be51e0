"""One letter and one run page at a city's size (issue 16: each ≤ 300 ms at the default city).

Generates the synthetic city (or reuses --city), runs the garbage-bag campaign on it in this
process with its facts from the city's registry view (`TableSource`, as the tests do: how the
facts were fetched changes nothing for a letter or a page), approves and issues it, then times
in one process:

- one letter opened on its own (`render_letter`, the dashboard's link and the desk's reprint):
  the first of a fresh process through the run's address index, another one, a missing one, and
  the first through the address book (every subject of the extract pseudonymised: the way
  before the index, and still the way when the extract changed under the index);
- the run page as a request: `GET /campaigns/runs/{id}` through the web application
  (started: its lifespan reads the campaign definitions; sign-in done before; TestClient, no
  network), the first and the median of the next ones; `run_figures` alone for comparison.

Prints the figures and their ratios; asserts nothing about time.

    .venv/bin/python bench/one_letter.py [--persons 30000] [--city DIR] [--repeat 7]
"""

from __future__ import annotations

import argparse
import contextlib
import re
import statistics
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 3, 1)
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("Europe/Brussels"))
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
console = Console()


def timed(action: object) -> float:
    started = time.perf_counter()
    with contextlib.suppress(KeyError):  # a missing letter
        action()  # type: ignore[operator]
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--city", type=Path, help="reuse this city (else one is generated)")
    parser.add_argument("--repeat", type=int, default=7, help="run page requests to time")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (city, db)")
    args = parser.parse_args(argv)

    from fastapi.testclient import TestClient

    from entitle.decide.campaign import (
        CampaignContext,
        approve_run,
        issue_run,
        render_letter,
        run_campaign,
        run_figures,
    )
    from entitle.decide.campaign import letters as campaign_letters
    from entitle.decide.campaign.definition import find_campaign
    from entitle.decide.campaign.sources import TableSource
    from entitle.registry.population import load_population
    from entitle.registry.synth import write_city
    from entitle.store import campaigns as store
    from entitle.store.db import make_engine, migrate, session_factory
    from entitle.web.app import create_app
    from entitle.web.campaigns.setup import CampaignSetup
    from entitle.web.settings import Settings

    figures: list[tuple[str, str]] = []
    with contextlib.ExitStack() as stack:
        if args.keep is not None:
            root = args.keep
            root.mkdir(parents=True, exist_ok=True)
        else:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="entitle-1-")))
        city = args.city
        if city is None:
            city = root / "city"
            started = time.perf_counter()
            write_city(args.persons, args.seed, city)
            figures.append(("city generated, s", f"{time.perf_counter() - started:.1f}"))
        url = f"sqlite:///{root / 'db.db'}"
        migrate(url)
        persons, households = load_population(city, "registry", as_of=AS_OF)
        ctx = CampaignContext(
            factory=session_factory(make_engine(url)),
            register=city / "registry",
            state_dir=root / "state",
            output_dir=root / "out",
            local=str(city / "local"),
            source=TableSource(persons, households),
            today=lambda: AS_OF,
        )
        bags = find_campaign("garbage-bags", REPO / "campaigns", REPO / "benefits")
        started = time.perf_counter()
        run = run_campaign(ctx, bags, AS_OF)
        figures.append(
            ("campaign run (facts from tables), s", f"{time.perf_counter() - started:.1f}")
        )
        with ctx.factory() as session:
            approve_run(session, bags, run.id, actor="bench", today=AS_OF)
            session.commit()
        started = time.perf_counter()
        issued = issue_run(ctx, bags, run.id, actor="bench")
        figures.append(
            ("issue (letters, PDF, address index), s", f"{time.perf_counter() - started:.1f}")
        )
        count = sum(issued.letters.values())
        figures.append(("households decided", f"{(run.summary or {}).get('subjects', 0):,}"))
        figures.append(("letters issued", f"{count:,}"))

        # one letter: a fresh process's first (no address book), another, a missing one
        campaign_letters._BOOKS.clear()
        first = timed(lambda: render_letter(ctx, bags, run.id, 1))
        another = timed(lambda: render_letter(ctx, bags, run.id, max(1, count // 2)))
        missing = timed(lambda: render_letter(ctx, bags, run.id, 10**8))
        built = not campaign_letters._BOOKS
        # the address book's way (before the index; an extract changed under the index)
        with ctx.factory() as session:
            letter = store.letter_by_seq(session, run.id, 2)
        assert letter is not None
        campaign_letters._BOOKS.clear()
        book = timed(lambda: campaign_letters.addressee_of(ctx, bags, letter.subject_pseudonym))
        index = timed(
            lambda: campaign_letters.indexed_addressee(
                ctx, bags, Path(str((issued.run.outputs or {})["folder"])), letter.subject_pseudonym
            )
        )
        figures += [
            ("one letter: first of the process (index), ms", f"{first * 1000:,.0f}"),
            ("one letter: another, ms", f"{another * 1000:,.0f}"),
            ("one letter: missing, ms", f"{missing * 1000:,.0f}"),
            ("  the address book was not made", str(built)),
            ("addressee through the index, ms", f"{index * 1000:,.1f}"),
            ("addressee through the address book (made), ms", f"{book * 1000:,.0f}"),
            ("  ratio book / index", f"{book / index:,.0f}×"),
            ("  ratio first letter (index) / target 300 ms", f"{first / 0.3:.2f}"),
        ]

        # the run page as a request, signed in as a campaign manager
        settings = Settings(
            database_url=url,
            registry_url="http://127.0.0.1:9",
            benefits=REPO / "benefits",
            data_dir=ctx.state_dir,
            clock=lambda: NOW,
            login_free_failures=1000,
            login_free_failures_per_address=1000,
        )
        app = create_app(settings)
        app.state.campaigns = CampaignSetup(
            context=ctx, campaigns_dir=REPO / "campaigns", benefits_dir=REPO / "benefits"
        )
        app.state.web.backend.add_user("manager", PASSWORD, "campaign_manager")
        client = TestClient(app, follow_redirects=False)
        client.__enter__()  # the worker starts: the campaign definitions are read in a thread
        started = time.perf_counter()
        app.state.campaigns.warming.join()
        figures.append(
            (
                "worker start-up: waited for the campaign definitions, ms",
                f"{(time.perf_counter() - started) * 1000:,.0f}",
            )
        )
        login = client.get("/login")
        found = CSRF.search(login.text)
        assert found
        data = {"username": "manager", "password": PASSWORD, "csrf_token": found.group(1)}
        assert client.post("/login", data=data).status_code == 303
        path = f"/campaigns/runs/{run.id}"
        times = []
        for _ in range(args.repeat + 1):
            started = time.perf_counter()
            page = client.get(path)
            times.append(time.perf_counter() - started)
            assert page.status_code == 200, page.status_code
        started = time.perf_counter()
        with ctx.factory() as session:
            run_figures(session, run.id, sample=10)
        only = time.perf_counter() - started
        median = statistics.median(times[1:])
        figures += [
            ("run page request: first, ms", f"{times[0] * 1000:,.0f}"),
            (f"run page request: median of {args.repeat}, ms", f"{median * 1000:,.0f}"),
            ("run_figures alone, ms", f"{only * 1000:,.0f}"),
            ("  ratio page / run_figures", f"{median / only:.1f}×"),
            ("  ratio page (median) / target 300 ms", f"{median / 0.3:.2f}"),
        ]
        client.__exit__(None, None, None)

    table = Table(title=f"One letter and the run page, {args.persons:,} persons")
    table.add_column("what")
    table.add_column("value", justify="right")
    for what, value in figures:
        table.add_row(what, value)
    console.print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
