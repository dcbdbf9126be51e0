"""Desk checks through the gateway: facts fetched against the hindsight minimum, and latency.

On a generated city served by the registry simulator (a separate process) with a fixed latency
per registry call, every Ghent benefit is checked for a sample of subjects, as the desk does.
Printed per benefit: facts fetched per decision by the staged, decisive-only gateway against the
*hindsight minimum* (the fewest facts whose values settle that subject's outcome and outputs,
found from all the subject's facts, see `hindsight.py`), the share of subjects for whom an income
or disability fact was read while less sensitive facts would have settled the decision, and the
desk latency (p50, p99), questions and round trips per check, and the minimum over the settling
sets that hold the residence facts the engine read first (what any privacy-first order fetches).
Both compare decided subjects (eligible or not, every output known): an undetermined outcome or
an open part of an eligible decision is settled by no set of facts, so those subjects are counted
apart. As at the desk, the facts the household composition's answer holds (asked first to find
the household: its residence and collective flag, the members' position codes and own residences)
are at hand before deciding (`CheckResult.given`): neither the engine nor the minimums count
them. Targets: fetched ≤ 1.15× the minimum on average; that share 0.

    .venv/bin/python bench/gateway.py [--persons 270000] [--sample 300] [--latency-ms 20]
        [--city FOLDER]  # a city from `entitle synth`, instead of generating one
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from hindsight import SENSITIVE, all_requests, hindsight, is_open
from processes import start_simulator
from rich.console import Console
from rich.table import Table

from entitle.decide.check import check
from entitle.registry.synth import write_city
from entitle.rules.catalogue import default_catalogue
from entitle.rules.decision import FactRequest, Subject
from entitle.rules.loader import load_benefit
from entitle.rules.plan import plan_benefit
from entitle.sources.access import MemoryAccessLog, Pseudonymiser
from entitle.sources.gateway import Gateway
from entitle.sources.local import HttpDatasets
from entitle.sources.magda import MagdaClient, MagdaSettings

REPO = Path(__file__).resolve().parents[1]
BENEFITS = ("uitpas", "garbage-bags", "school-tariff", "lez")
AS_OF = date(2026, 3, 1)
console = Console(width=150)  # tables readable in a log or a pipe


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=270_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample", type=int, default=300, help="subjects per benefit")
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--city", type=Path, help="a city written by `entitle synth` (reused)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        city = args.city
        if city is None:
            city = folder / "city"
            start = time.perf_counter()
            write_city(args.persons, args.seed, city)
            console.print(f"city: {args.persons:,} persons in {time.perf_counter() - start:.1f} s")
        process, url = start_simulator(city, folder, args.latency_ms)
        try:
            rows = run(url, city, args.sample, args.seed)
        finally:
            process.terminate()
            process.wait(timeout=10)

    table = Table(
        title=f"Desk checks through the gateway: {args.sample} subjects per benefit, "
        f"simulator at {args.latency_ms} ms per registry call"
    )
    for column in (
        "benefit",
        "facts/decision fetched",
        "hindsight minimum",
        "fetched / minimum",
        "minimum, residence first",
        "fetched / that",
        "minimum exact",
        "sensitive read, avoidable",
        "questions/decision",
        "round trips/check",
        "open (left out)",
        "p50 ms",
        "p99 ms",
    ):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            row.name,
            f"{row.fetched:.2f}",
            f"{row.minimum:.2f}",
            f"{row.fetched / row.minimum:.2f}×",
            f"{row.residence_first:.2f}",
            f"{row.fetched / row.residence_first:.2f}×",
            f"{row.exact:.0%}",
            f"{row.sensitive_avoidable:.1%}",
            f"{row.questions:.2f}",
            f"{row.rounds:.2f}",
            str(row.undetermined),
            f"{row.p50:.1f}",
            f"{row.p99:.1f}",
        )
    console.print(table)
    fetched = sum(r.fetched for r in rows) / len(rows)
    minimum = sum(r.minimum for r in rows) / len(rows)
    first = sum(r.residence_first for r in rows) / len(rows)
    worst_share = max(r.sensitive_avoidable for r in rows)
    p50, p99 = max(r.p50 for r in rows), max(r.p99 for r in rows)
    console.print(
        f"targets: fetched ≤ 1.15× the hindsight minimum on average: "
        f"{'met' if fetched <= 1.15 * minimum else 'NOT met'} ({fetched / minimum:.2f}×; "
        f"{fetched / first:.2f}× the minimum with the residence read first); "
        f"sensitive fact read while avoidable = 0: {'met' if worst_share == 0 else 'NOT met'} "
        f"(worst {worst_share:.1%}); p50 ≤ 100 ms: {'met' if p50 <= 100 else 'NOT met'} "
        f"({p50:.0f}); p99 ≤ 250 ms: {'met' if p99 <= 250 else 'NOT met'} ({p99:.0f})"
    )
    return 0


@dataclass(frozen=True)
class Row:
    """One benefit's figures, averaged over the sampled subjects."""

    name: str
    fetched: float
    minimum: float
    residence_first: float  # the minimum once the phase-1 facts the engine read are counted in
    exact: float  # share of decided subjects whose minimum is exact (not a minimal set)
    sensitive_avoidable: float  # share of decided subjects with an avoidable sensitive read
    questions: float
    rounds: float  # round trips to the sources per check (each one stage's questions at once)
    undetermined: int  # subjects left out of the comparison: their outcome or an output is open
    p50: float
    p99: float


class RoundCounting(Gateway):
    """The gateway, counting round trips (provider calls that sent at least one question) and
    keeping what the engine asked."""

    rounds = 0

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.asked: list[FactRequest] = []

    def subject(self, kind: str, insz: str, with_household: bool) -> Subject | None:
        before = self.questions
        found = super().subject(kind, insz, with_household)
        self.rounds += int(self.questions > before)
        return found

    def __call__(self, requests: Sequence[FactRequest]) -> dict[FactRequest, Any]:
        before = self.questions
        self.asked += requests
        answer = super().__call__(requests)
        self.rounds += int(self.questions > before)
        return answer


def run(url: str, city: Path, sample: int, seed: int) -> list[Row]:
    import polars as pl

    persons = pl.read_parquet(city / "registry" / "persons.parquet")
    settings = MagdaSettings(base_url=url, sender="gent.be/entitle", default_capacity="ENTITLE")
    client = MagdaClient(settings)
    local = HttpDatasets(url)
    rng = random.Random(seed)
    ids = rng.sample(persons["person_id"].to_list(), sample)
    catalogue = default_catalogue()
    rows = []
    for name in BENEFITS:
        benefit = load_benefit(REPO / "benefits" / "ghent" / f"{name}.yaml")
        phase_of = plan_benefit(benefit, catalogue).phase_of
        fetched, minimum, exact, avoidable, questions, rounds, seconds = ([] for _ in range(7))
        residence_first: list[int] = []
        open_count = 0
        for insz in ids:
            gateway = RoundCounting(
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
            questions.append(result.questions)
            rounds.append(gateway.rounds)
            first = [r for r in gateway.asked if phase_of[r.fact] == 1]
            decision = result.decision
            if is_open(decision):
                open_count += 1  # nothing settles an open outcome: no minimum to compare with
                continue
            subject = gateway.subject(benefit.subject, insz, True)
            if subject is None:
                continue
            requests = all_requests(benefit, subject, catalogue)
            answers = gateway(requests)  # in hindsight: every fact of the subject
            facts = {r: answers.get(r) for r in requests}
            given = result.given  # the composition's facts, at hand before deciding
            best = hindsight(benefit, subject, facts, AS_OF, catalogue, given=given)
            residence_first.append(
                hindsight(
                    benefit, subject, facts, AS_OF, catalogue, required=first, given=given
                ).minimum
            )
            fetched.append(decision.fetch_count - len(given))
            minimum.append(best.minimum)
            exact.append(best.exact)
            sensitive_read = any(
                catalogue[fact].sensitivity >= SENSITIVE for fact in decision.facts_used
            )
            avoidable.append(sensitive_read and best.sensitive_avoidable)
        ordered = sorted(seconds)
        rows.append(
            Row(
                name,
                statistics.mean(fetched),
                statistics.mean(minimum),
                statistics.mean(residence_first),
                statistics.mean(exact),
                statistics.mean(avoidable),
                statistics.mean(questions),
                statistics.mean(rounds),
                open_count,
                statistics.median(seconds) * 1000,
                ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
            )
        )
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
