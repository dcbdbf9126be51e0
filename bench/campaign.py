"""The garbage-bag campaign on a Ghent-sized synthetic city, against the registry simulator.

Generates the city (or reuses --city), starts the registry simulator as a separate process,
and times:

- the whole run: register extract → target → staged fetching through the gateway (SOAP to the
  simulator, local datasets over HTTP) → columnar decisions → stored per chunk → diff → draft,
  with the reach against the city's ground truth;
- issuing after approval: letters inserted (coupon codes), the merged print PDF written;
- letter rendering alone (the stored letters written again to a PDF), in letters per second;
- one letter opened on its own (the desk's reprint, the dashboard's link): the first time (the
  address book of the register extract is made) and again, and a letter that does not exist;
- the run's figures as the run page reads them.

    .venv/bin/python bench/campaign.py [--persons 270000] [--workers 2] [--city DIR]

Targets (issue 6): the whole run ≤ 5 minutes; ≥ 300 letters per second. Issue 16: one letter
≤ 300 ms, a missing letter at once, the run page's figures ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
from datetime import date
from pathlib import Path

from processes import start_simulator
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 3, 1)
console = Console()


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_one_letters(ctx: object, campaign: object, run_id: int, count: int) -> dict[str, float]:
    """Seconds to open one letter: the first (address book made), another, a missing one."""
    from entitle.decide.campaign import render_letter

    times: dict[str, float] = {}
    for what, seq in (("first", 1), ("another", max(1, count // 2)), ("missing", 10**8)):
        started = time.perf_counter()
        with contextlib.suppress(KeyError):  # the missing one
            render_letter(ctx, campaign, run_id, seq)  # type: ignore[arg-type]
        times[what] = time.perf_counter() - started
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=270_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight / worker")
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument("--city", type=Path, help="reuse a generated city")
    parser.add_argument(
        "--all-via-magda",
        action="store_true",
        help="ask MAGDA for the residence facts too (facts_from_register: [])",
    )
    args = parser.parse_args(argv)

    from entitle.decide.campaign import (
        CampaignContext,
        approve_run,
        issue_run,
        run_campaign,
        run_figures,
    )
    from entitle.decide.campaign.definition import find_campaign
    from entitle.decide.letters import write_letters
    from entitle.registry.reach import GroundTruth
    from entitle.store.db import make_engine, migrate, session_factory

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        city = args.city
        if city is None:
            from entitle.registry.synth import write_city

            city = folder / "city"
            started = time.perf_counter()
            write_city(args.persons, args.seed, city)
            console.print(
                f"city: {args.persons:,} persons in {time.perf_counter() - started:.1f} s"
            )
        process, url = start_simulator(city, folder)
        try:
            database = f"sqlite:///{folder / 'entitle.db'}"
            migrate(database)
            ctx = CampaignContext(
                factory=session_factory(make_engine(database)),
                register=city / "registry",
                state_dir=folder / "state",
                output_dir=folder / "out",
                registry=url,
                magda_overrides={
                    "default_capacity": "ENTITLE",
                    "sender": "gent.be/entitle",
                    "max_concurrency": args.concurrency,
                },
                reach=GroundTruth(city),
            )
            bags = find_campaign("garbage-bags", REPO / "campaigns", REPO / "benefits")
            if args.all_via_magda:
                import re

                from entitle.decide.campaign.definition import load_campaign

                text = re.sub(
                    r"(?m)^facts_from_register: .*$",
                    "facts_from_register: []",
                    bags.path.read_text(encoding="utf-8"),
                )
                variant = folder / "garbage-bags.yaml"
                variant.write_text(text, encoding="utf-8")
                bags = load_campaign(variant, REPO / "benefits")
            server_before = cpu_seconds(process.pid)
            started = time.perf_counter()
            run = run_campaign(ctx, bags, AS_OF, chunk_size=args.chunk_size, workers=args.workers)
            run_seconds = time.perf_counter() - started
            server_cpu = cpu_seconds(process.pid) - server_before
            with ctx.factory() as session:
                approve_run(session, bags, run.id, actor="bench")
                session.commit()
            started = time.perf_counter()
            issued = issue_run(ctx, bags, run.id, actor="bench")
            issue_seconds = time.perf_counter() - started

            # rendering alone: the same letters again
            from entitle.decide.campaign import addressees, build_letter
            from entitle.decide.campaign.sources import RegisterExtract
            from entitle.store import campaigns as store

            with ctx.factory() as session:
                letters = store.letters_of_run(session, run.id)
                decisions = {r.subject_pseudonym: r for r in store.decision_rows(session, run.id)}
            to = addressees(bags, RegisterExtract.load(city / "registry"), ctx.pseudonymiser())
            on = AS_OF
            started = time.perf_counter()
            count, pages = write_letters(
                (
                    build_letter(
                        bags, x, decisions[x.subject_pseudonym], to[x.subject_pseudonym], on=on
                    )
                    for x in letters
                ),
                folder / "again.pdf",
            )
            render_seconds = time.perf_counter() - started
            size = (folder / "again.pdf").stat().st_size
            one_letter = time_one_letters(ctx, bags, run.id, len(letters))
            started = time.perf_counter()
            with ctx.factory() as session:
                run_figures(session, run.id, sample=10)
            figures_seconds = time.perf_counter() - started
        finally:
            process.terminate()
            process.wait(timeout=10)

    summary = run.summary or {}
    reach = summary.get("reach", {})
    mode = "all facts via MAGDA" if args.all_via_magda else "residence facts from the register"
    table = Table(
        title=f"Garbage-bag campaign, {args.persons:,} persons, {args.workers} worker(s), {mode}"
    )
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("households decided", f"{summary['subjects']:,}")
    for outcome, n in summary["outcomes"].items():
        table.add_row(f"  {outcome}", f"{n:,}")
    table.add_row("registry and dataset questions", f"{summary['questions']:,}")
    for fact, n in summary["fetched"].items():
        table.add_row(f"  fetched {fact}", f"{n:,}")
    table.add_row("whole run (target → draft), s", f"{run_seconds:.1f}")
    table.add_row("  households per second", f"{summary['subjects'] / run_seconds:,.0f}")
    table.add_row("  simulator CPU, s", f"{server_cpu:.1f}")
    table.add_row("issue after approval (letters + PDF), s", f"{issue_seconds:.1f}")
    table.add_row("letters issued", f"{sum(issued.letters.values()):,} {issued.letters}")
    table.add_row(
        "  letters per second (issue, end to end)",
        f"{sum(issued.letters.values()) / issue_seconds:,.0f}",
    )
    table.add_row("  letters per second (rendering only)", f"{count / render_seconds:,.0f}")
    table.add_row("  pages, PDF size", f"{pages:,}, {size / 1e6:.1f} MB")
    for what, seconds in one_letter.items():
        table.add_row(f"one letter: {what}, ms", f"{seconds * 1000:,.0f}")
    table.add_row("run page figures, ms", f"{figures_seconds * 1000:,.0f}")
    for key in (
        "truly_entitled",
        "reached",
        "flagged_undetermined",
        "missed",
        "share_reached_or_flagged",
        "wrongly_eligible",
        "wrongly_eligible_current",
    ):
        table.add_row(f"reach: {key}", f"{reach.get(key)}")
    console.print(table)
    console.print(
        f"targets: whole run ≤ 300 s: {'met' if run_seconds <= 300 else 'NOT met'} "
        f"({run_seconds:.0f} s); ≥ 300 letters/s: "
        f"{'met' if count / render_seconds >= 300 else 'NOT met'} ({count / render_seconds:,.0f})"
    )
    console.print(f"load average at the end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
