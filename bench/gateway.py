"""Desk checks through the gateway: facts fetched (staged vs everything) and latency.

On a generated city served by the registry simulator (a separate process) with a fixed latency
per registry call, every Ghent benefit is checked for a sample of subjects. Printed per benefit:
facts fetched per decision with staged, decisive-only fetching against fetching every fact the
benefit could need for that subject, and the desk latency (p50, p99).

    .venv/bin/python bench/gateway.py [--persons 270000] [--sample 300] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from processes import start_simulator
from rich.console import Console
from rich.table import Table

from entitle.decide.check import check
from entitle.registry.synth import write_city
from entitle.rules.catalogue import default_catalogue
from entitle.rules.decision import Subject
from entitle.rules.loader import load_benefit
from entitle.rules.model import Benefit
from entitle.rules.plan import plan_benefit
from entitle.sources.access import MemoryAccessLog, Pseudonymiser
from entitle.sources.gateway import Gateway
from entitle.sources.local import HttpDatasets
from entitle.sources.magda import MagdaClient, MagdaSettings

REPO = Path(__file__).resolve().parents[1]
BENEFITS = ("uitpas", "garbage-bags", "school-tariff", "lez")
AS_OF = date(2026, 3, 1)
console = Console()


def everything(benefit: Benefit, subject: Subject) -> int:
    """Facts fetched when every fact the benefit could need is fetched for this subject."""
    plan = plan_benefit(benefit, default_catalogue())
    count = 0
    for fact in plan.facts:
        if fact in plan.member_facts:
            count += len(subject.members)
        else:
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=270_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample", type=int, default=300, help="subjects per benefit")
    parser.add_argument("--latency-ms", type=int, default=20)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        write_city(args.persons, args.seed, folder / "city")
        console.print(f"city: {args.persons:,} persons in {time.perf_counter() - start:.1f} s")
        process, url = start_simulator(folder / "city", folder, args.latency_ms)
        try:
            rows = run(url, folder / "city", args.sample, args.seed)
        finally:
            process.terminate()
            process.wait(timeout=10)

    table = Table(
        title=f"Desk checks through the gateway: {args.sample} subjects per benefit, "
        f"simulator at {args.latency_ms} ms per registry call"
    )
    for column in (
        "benefit",
        "facts/decision staged",
        "facts/decision all",
        "staged / all",
        "questions/decision",
        "p50 ms",
        "p99 ms",
    ):
        table.add_column(column, justify="right")
    for name, staged, full, questions, p50, p99 in rows:
        table.add_row(
            name,
            f"{staged:.2f}",
            f"{full:.2f}",
            f"{staged / full:.0%}",
            f"{questions:.2f}",
            f"{p50:.1f}",
            f"{p99:.1f}",
        )
    console.print(table)
    worst = max(staged / full for _, staged, full, *_ in rows)
    p50s, p99s = [r[4] for r in rows], [r[5] for r in rows]
    console.print(
        f"targets: staged ≤ 60% of everything: {'met' if worst <= 0.6 else 'NOT met'} "
        f"(worst {worst:.0%}); p50 ≤ 100 ms: {'met' if max(p50s) <= 100 else 'NOT met'} "
        f"({max(p50s):.0f}); p99 ≤ 250 ms: {'met' if max(p99s) <= 250 else 'NOT met'} "
        f"({max(p99s):.0f})"
    )
    return 0


def run(
    url: str, city: Path, sample: int, seed: int
) -> list[tuple[str, float, float, float, float, float]]:
    import polars as pl

    persons = pl.read_parquet(city / "registry" / "persons.parquet")
    settings = MagdaSettings(base_url=url, sender="gent.be/entitle", default_capacity="ENTITLE")
    client = MagdaClient(settings)
    local = HttpDatasets(url)
    rng = random.Random(seed)
    ids = rng.sample(persons["person_id"].to_list(), sample)
    rows = []
    for name in BENEFITS:
        benefit = load_benefit(REPO / "benefits" / "ghent" / f"{name}.yaml")
        staged, full, questions, seconds = [], [], [], []
        for insz in ids:
            gateway = Gateway(
                client=client,
                local=local,
                purpose=benefit.purpose,
                as_of=AS_OF,
                log=MemoryAccessLog(),
                pseudonymise=Pseudonymiser(b"bench-key-bench-key"),
            )
            start = time.perf_counter()
            result = check(benefit, insz, gateway, AS_OF, explain=True)
            seconds.append(time.perf_counter() - start)
            subject = gateway.subject(benefit.subject, insz, True)
            if subject is None:
                continue
            staged.append(result.decision.fetch_count)
            full.append(everything(benefit, subject))
            questions.append(result.questions)
        ordered = sorted(seconds)
        rows.append(
            (
                name,
                statistics.mean(staged),
                statistics.mean(full),
                statistics.mean(questions),
                statistics.median(seconds) * 1000,
                ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
            )
        )
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
