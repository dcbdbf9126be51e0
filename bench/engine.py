"""Entitle's rules engines against OpenFisca, on one generated population.

    .venv/bin/python bench/engine.py [--persons N] [--seed S] [--repeat R] [--samples K]
    .venv/bin/python bench/engine.py --flanders          # four benefits, 6.8 M persons, peak RSS

Both engines go from the same polars tables to decisions for `ghent.uitpas` (per person) and
`ghent.garbage-bags` (per household). OpenFisca cannot keep *unknown* apart from *no*, so its
answers are compared with Entitle's on the rows where no fact the rule reads is null.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import polars as pl
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

import openfisca_model as of
from population import generate_population

ROOT = Path(__file__).resolve().parent.parent
BENEFITS = ROOT / "benefits" / "ghent"
COMPARED = ("uitpas", "garbage-bags")
FLANDERS = ("uitpas", "garbage-bags", "school-tariff", "lez")
AS_OF = date(2026, 3, 1)
FLANDERS_PERSONS = 6_800_000
TARGET_RATIO = 5.0
TARGET_SCALAR_MS = 0.5
TARGET_GIB = 8.0
TARGET_LAZY_RATIO = 2.0  # lazy staged fetching's wall time / the all-facts wall time

R = TypeVar("R")
console = Console(width=None if sys.stdout.isatty() else 120)


# ----------------------------------------------------------------------------- timing


def timed(fn: Callable[[], R], repeat: int) -> tuple[float, R]:
    """Median wall time of `repeat` calls, and the last call's result."""
    times: list[float] = []
    result: R | None = None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    assert result is not None
    return statistics.median(times), result


def peak_rss_mib() -> float:
    """This process's peak resident set size (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ----------------------------------------------------------------------------- Entitle side


def load_benefits(names: tuple[str, ...]) -> dict[str, Any]:
    """Entitle's benefit definitions, by file name."""
    from entitle.rules.loader import load_benefit

    return {name: load_benefit(BENEFITS / f"{name}.yaml") for name in names}


def entitle_columnar(
    benefits: dict[str, Any],
    persons: pl.DataFrame,
    households: pl.DataFrame,
    prefill: bool,
) -> tuple[dict[str, float], dict[str, pl.DataFrame]]:
    """Tables → decisions with Entitle's columnar engine: seconds and decisions per benefit.

    `prefill`: every fact at hand, one pass (OpenFisca's work); otherwise lazy staged fetching from
    the tables, with the decisive-fact bookkeeping a campaign does.
    """
    from entitle.rules.columnar import Population, evaluate_population

    start = time.perf_counter()
    population = Population(persons=persons, households=households)
    population.index()  # persons → household positions, shared by every benefit of a run
    setup = time.perf_counter() - start
    seconds: dict[str, float] = {}
    decisions: dict[str, pl.DataFrame] = {}
    for name, benefit in benefits.items():
        start = time.perf_counter()
        decisions[name] = evaluate_population(benefit, population, AS_OF, prefill=prefill)
        seconds[name] = time.perf_counter() - start
    seconds[next(iter(seconds))] += setup
    return seconds, decisions


Runs = list[tuple[dict[str, float], dict[str, pl.DataFrame]]]


def both_modes(
    benefits: dict[str, Any], persons: pl.DataFrame, households: pl.DataFrame, repeat: int
) -> tuple[Runs, Runs, float, float]:
    """`repeat` runs of the all-facts and the lazy mode, alternated so that both meet the same
    machine (load, memory already mapped) after one untimed run of each; the runs and each
    mode's mean CPU seconds per run (all threads)."""
    for prefill in (True, False):
        entitle_columnar(benefits, persons, households, prefill=prefill)
    runs: dict[bool, Runs] = {True: [], False: []}
    cpu = {True: 0.0, False: 0.0}
    count = max(1, repeat)
    for _ in range(count):
        for prefill in (True, False):
            start = time.process_time()
            runs[prefill].append(entitle_columnar(benefits, persons, households, prefill))
            cpu[prefill] += time.process_time() - start
    return runs[True], runs[False], cpu[True] / count, cpu[False] / count


@dataclass
class Case:
    """One subject's facts, as a registry-backed provider would answer them."""

    subject: Any  # entitle.rules.decision.Subject
    facts: dict[Any, Any]  # FactRequest -> value (absent or None: no data)
    members: list[dict[str, Any]]  # the household's person rows (for OpenFisca)
    household: dict[str, Any]  # the household row (for OpenFisca)


def sample_cases(
    persons: pl.DataFrame, households: pl.DataFrame, kind: str, count: int, seed: int
) -> list[Case]:
    """`count` random subjects (persons or households) with their whole household's facts."""
    from entitle.rules.decision import FactRequest, Subject

    rng = np.random.default_rng(seed + 1)
    pool = persons if kind == "person" else households
    picked = pool.get_column("person_id" if kind == "person" else "household_id").gather(
        rng.choice(pool.height, size=min(count, pool.height), replace=False)
    )
    if kind == "person":
        hh_ids = persons.filter(pl.col("person_id").is_in(picked.implode())).select(
            "person_id", "household_id"
        )
        subject_hh = dict(zip(hh_ids["person_id"], hh_ids["household_id"], strict=True))
        wanted = [subject_hh[p] for p in picked]
    else:
        wanted = list(picked)
    members_of = persons.filter(pl.col("household_id").is_in(wanted)).partition_by(
        "household_id", as_dict=True
    )
    hh_rows = {
        row["household_id"]: row
        for row in households.filter(pl.col("household_id").is_in(wanted)).to_dicts()
    }
    cases = []
    for subject_id, hh_id in zip(picked, wanted, strict=True):
        members = members_of[(hh_id,)].to_dicts()
        household = hh_rows[hh_id]
        facts: dict[Any, Any] = {}
        for member in members:
            for name, value in member.items():
                if name not in ("person_id", "household_id"):
                    facts[FactRequest(member["person_id"], f"person.{name}")] = value
        for name, value in household.items():
            if name != "household_id":
                facts[FactRequest(hh_id, f"household.{name}")] = value
        subject = Subject(
            kind=kind,
            id=subject_id,
            household_id=hh_id,
            members=tuple(m["person_id"] for m in members),
        )
        cases.append(Case(subject, facts, members, household))
    return cases


def entitle_scalar(benefit: Any, cases: list[Case]) -> tuple[list[float], dict[str, str]]:
    """Milliseconds per decision of Entitle's scalar engine (with the trace), and the outcomes."""
    from entitle.rules.cases import DictProvider
    from entitle.rules.scalar import evaluate

    times = []
    outcomes = {}
    for case in cases:
        provider = DictProvider(case.facts)
        start = time.perf_counter()
        decision = evaluate(benefit, case.subject, provider, AS_OF, explain=True)
        times.append((time.perf_counter() - start) * 1000)
        outcomes[decision.subject_id] = str(decision.outcome)
    return times, outcomes


def scalar_matches_columnar(outcomes: dict[str, str], decisions: pl.DataFrame) -> int:
    """How many sampled subjects got the same outcome from both Entitle engines."""
    picked = decisions.filter(pl.col("subject_id").is_in(list(outcomes)))
    return sum(
        outcomes[subject] == str(outcome)
        for subject, outcome in picked.select("subject_id", "outcome").iter_rows()
    )


def openfisca_one_ms(system: Any, cases: list[Case], variable: str) -> list[float]:
    """Milliseconds to build a one-household OpenFisca simulation and calculate one variable."""
    times = []
    for case in cases:
        situation = of.situation(case.members, case.household, AS_OF.year)
        start = time.perf_counter()
        of.decide_one(system, situation, variable, AS_OF.year)
        times.append((time.perf_counter() - start) * 1000)
    return times


# ----------------------------------------------------------------------------- agreement


@dataclass
class Agreement:
    """How the two engines' answers compare on one benefit."""

    benefit: str
    rows: int
    complete: int  # rows with no null among the facts the rule reads
    entitle_eligible: int  # on complete rows
    openfisca_eligible: int  # on complete rows
    disagreements: int  # complete rows where the two differ
    entitle_undetermined: int  # all rows
    openfisca_no_for_undetermined: int  # rows Entitle keeps undetermined that OpenFisca denies
    amount_match: bool | None = None


def _outcomes(decisions: pl.DataFrame) -> pl.Series:
    return decisions.get_column("outcome").cast(pl.Utf8)


def agree_uitpas(
    persons: pl.DataFrame, decisions: pl.DataFrame, openfisca: dict[str, np.ndarray]
) -> Agreement:
    """UiTPAS: per person."""
    facts = [
        "municipality_nis",
        "increased_allowance",
        "leefloon",
        "ocmw_leefloon",
        "ocmw_debt_help",
    ]
    frame = persons.select(
        "person_id", pl.all_horizontal(pl.col(f).is_not_null() for f in facts).alias("complete")
    ).with_columns(pl.Series("of", openfisca["uitpas_eligible"]))
    ent = decisions.select(
        pl.col("subject_id").alias("person_id"), _outcomes(decisions).alias("outcome")
    )
    joined = frame.join(ent, on="person_id", how="left")
    return _agreement("uitpas", joined)


def agree_garbage_bags(
    persons: pl.DataFrame,
    households: pl.DataFrame,
    decisions: pl.DataFrame,
    openfisca: dict[str, np.ndarray],
) -> Agreement:
    """Garbage bags: per household; a reference address is *undetermined* in Entitle."""
    member_complete = persons.group_by("household_id").agg(
        (
            pl.col("increased_allowance").is_not_null().all()
            & pl.col("ocmw_budget_guidance").is_not_null().all()
        ).alias("members_complete"),
        pl.len().alias("size"),
    )
    frame = (
        households.select("household_id", "reference_address")
        .with_columns(
            pl.Series("of", openfisca["garbage_bags_eligible"]),
            pl.Series("of_amount", openfisca["garbage_bags_amount"]),
        )
        .join(member_complete, on="household_id", how="left")
        .with_columns(
            (pl.col("members_complete") & pl.col("reference_address").not_()).alias("complete")
        )
    )
    ent = decisions.select(
        pl.col("subject_id").alias("household_id"),
        _outcomes(decisions).alias("outcome"),
        *([pl.col("out_amount").alias("amount")] if "out_amount" in decisions.columns else []),
    )
    joined = frame.join(ent, on="household_id", how="left")
    result = _agreement("garbage-bags", joined)
    eligible = joined.filter(pl.col("complete") & (pl.col("outcome") == "eligible"))
    if "out_amount" in decisions.columns and eligible.height:
        ent_sum = float(eligible.get_column("amount").cast(pl.Float64).sum())
        of_sum = float(eligible.get_column("of_amount").sum())
        # Money may come back in euros or in cents.
        result.amount_match = abs(ent_sum - of_sum) < 0.01 or abs(ent_sum / 100 - of_sum) < 0.01
    return result


def _agreement(benefit: str, joined: pl.DataFrame) -> Agreement:
    complete = joined.filter(pl.col("complete"))
    ent_yes = complete.get_column("outcome") == "eligible"
    of_yes = complete.get_column("of")
    undetermined = joined.filter(pl.col("outcome") == "undetermined")
    return Agreement(
        benefit=benefit,
        rows=joined.height,
        complete=complete.height,
        entitle_eligible=int(ent_yes.sum()),
        openfisca_eligible=int(of_yes.sum()),
        disagreements=int((ent_yes != of_yes).sum()),
        entitle_undetermined=undetermined.height,
        openfisca_no_for_undetermined=int((~undetermined.get_column("of")).sum()),
    )


# ----------------------------------------------------------------------------- Flanders


def _flanders_child(persons_n: int, seed: int, queue: Any) -> None:
    """In a fresh process: generate, decide all four benefits, report times and peak RSS."""
    try:
        start = time.perf_counter()
        persons, households = generate_population(persons_n, seed)
        generated = time.perf_counter() - start
        rss_tables = peak_rss_mib()
        benefits = load_benefits(FLANDERS)
        times: dict[str, float] = {}
        counts: dict[str, dict[str, int]] = {}
        from entitle.rules.columnar import Population, evaluate_population

        total_start = time.perf_counter()
        population = Population(persons=persons, households=households)
        for name, benefit in benefits.items():
            start = time.perf_counter()
            decisions = evaluate_population(benefit, population, as_of=AS_OF)
            times[name] = time.perf_counter() - start
            counts[name] = dict(
                decisions.group_by(pl.col("outcome").cast(pl.Utf8)).len().iter_rows()
            )
            del decisions
        total = time.perf_counter() - total_start
        queue.put(
            {
                "generated_s": generated,
                "rss_tables_mib": rss_tables,
                "times": times,
                "total_s": total,
                "counts": counts,
                "peak_rss_mib": peak_rss_mib(),
                "households": households.height,
            }
        )
    except BaseException as exc:
        queue.put({"error": f"{type(exc).__name__}: {exc}"})
        raise


def run_flanders(persons_n: int, seed: int) -> dict[str, Any]:
    """Run the Flanders measurement in a spawned child, so its peak RSS is its own."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_flanders_child, args=(persons_n, seed, queue))
    child.start()
    result: dict[str, Any] = queue.get()
    child.join()
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result["children_maxrss_mib"] = children
    return result


def print_flanders(result: dict[str, Any], persons_n: int) -> None:
    """Print the Flanders table."""
    if "error" in result:
        console.print(f"[red]Flanders run failed: {result['error']}[/red]")
        return
    table = Table(title=f"Entitle columnar, four Ghent benefits, {persons_n:,} persons")
    table.add_column("benefit")
    table.add_column("seconds", justify="right")
    table.add_column("persons/s", justify="right")
    table.add_column("eligible / not / undetermined", justify="right")
    for name, seconds in result["times"].items():
        c = result["counts"][name]
        table.add_row(
            name,
            f"{seconds:.2f}",
            f"{persons_n / seconds:,.0f}",
            f"{c.get('eligible', 0):,} / {c.get('not_eligible', 0):,} / "
            f"{c.get('undetermined', 0):,}",
        )
    table.add_row(
        "all four", f"{result['total_s']:.2f}", f"{persons_n / result['total_s']:,.0f}", ""
    )
    console.print(table)
    peak_gib = result["peak_rss_mib"] / 1024
    met = "met" if peak_gib <= TARGET_GIB else "NOT met"
    console.print(
        f"generated {persons_n:,} persons / {result['households']:,} households in "
        f"{result['generated_s']:.1f} s; peak RSS after generation "
        f"{result['rss_tables_mib'] / 1024:.2f} GiB, at the end {peak_gib:.2f} GiB "
        f"(child ru_maxrss; target ≤ {TARGET_GIB:g} GiB: {met})"
    )


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per engine (median)")
    parser.add_argument("--samples", type=int, default=200, help="subjects for per-decision times")
    parser.add_argument("--flanders", action="store_true", help="four benefits on 6.8 M persons")
    parser.add_argument("--flanders-persons", type=int, default=FLANDERS_PERSONS)
    args = parser.parse_args(argv)

    if args.flanders:
        result = run_flanders(args.flanders_persons, args.seed)
        print_flanders(result, args.flanders_persons)
        return 0 if "error" not in result else 1

    n = args.persons
    start = time.perf_counter()
    persons, households = generate_population(n, args.seed)
    console.print(
        f"population: {n:,} persons, {households.height:,} households, "
        f"generated in {time.perf_counter() - start:.2f} s (seed {args.seed}); "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
    )

    system = of.build_tax_benefit_system()
    of_s, of_results = timed(lambda: of.run(system, persons, households, AS_OF.year), args.repeat)
    benefits = load_benefits(COMPARED)
    runs, lazy_runs, ent_cpu, lazy_cpu = both_modes(benefits, persons, households, args.repeat)
    ent_results = runs[-1][1]
    per_benefit = {name: statistics.median(r[0][name] for r in runs) for name in COMPARED}
    ent_s = statistics.median(sum(r[0].values()) for r in runs)
    lazy_s = statistics.median(sum(r[0].values()) for r in lazy_runs)
    lazy_per_benefit = {name: statistics.median(r[0][name] for r in lazy_runs) for name in COMPARED}
    lazy_results = lazy_runs[-1][1]
    for name in COMPARED:  # laziness never changes an outcome
        assert lazy_results[name]["outcome"].equals(ent_results[name]["outcome"]), name

    agreements = [
        agree_uitpas(persons, ent_results["uitpas"], of_results),
        agree_garbage_bags(persons, households, ent_results["garbage-bags"], of_results),
    ]

    cases = {
        "uitpas": sample_cases(persons, households, "person", args.samples, args.seed),
        "garbage-bags": sample_cases(persons, households, "household", args.samples, args.seed),
    }
    variables = {"uitpas": "uitpas_eligible", "garbage-bags": "garbage_bags_extra_credit"}
    scalar: dict[str, list[float]] = {}
    same: dict[str, int] = {}
    one: dict[str, list[float]] = {}
    for name in COMPARED:
        scalar[name], outcomes = entitle_scalar(benefits[name], cases[name])
        same[name] = scalar_matches_columnar(outcomes, ent_results[name])
        one[name] = openfisca_one_ms(system, cases[name], variables[name])

    ratio = of_s / ent_s
    table = Table(title=f"Entitle vs OpenFisca: uitpas + garbage-bags, {n:,} persons")
    table.add_column("measure")
    table.add_column("Entitle", justify="right")
    table.add_column("OpenFisca", justify="right")
    table.add_column("Entitle speed-up", justify="right")
    table.add_row(
        "tables → decisions, persons/s", f"{n / ent_s:,.0f}", f"{n / of_s:,.0f}", f"{ratio:.2f}×"
    )
    table.add_row("  wall time, s (median)", f"{ent_s:.3f}", f"{of_s:.3f}", "")
    for name in COMPARED:
        table.add_row(f"    of which {name}, s", f"{per_benefit[name]:.3f}", "", "")
    table.add_row(
        "lazy staged fetching (campaign mode), persons/s",
        f"{n / lazy_s:,.0f}",
        "n/a",
        f"{of_s / lazy_s:.2f}×",
    )
    table.add_row("  wall time, s (median)", f"{lazy_s:.3f}", "", "")
    for name in COMPARED:
        table.add_row(f"    of which {name}, s", f"{lazy_per_benefit[name]:.3f}", "", "")
    table.add_row("  lazy / all facts, wall time", f"{lazy_s / ent_s:.2f}×", "", "")
    table.add_row(
        "  CPU s per run, lazy / all facts (mean)",
        f"{lazy_cpu:.3f} / {ent_cpu:.3f} = {lazy_cpu / ent_cpu:.2f}×",
        "",
        "",
    )
    for name in COMPARED:
        e_ms, o_ms = statistics.median(scalar[name]), statistics.median(one[name])
        table.add_row(
            f"one decision, {name}: median ms",
            f"{e_ms:.3f} (scalar, trace)",
            f"{o_ms:.3f} (build + calc)",
            f"{o_ms / e_ms:.1f}×",
        )
    console.print(table)
    for name in COMPARED:
        console.print(
            f"scalar and columnar outcomes agree on {same[name]} of {len(cases[name])} "
            f"sampled {name} subjects"
        )

    agree = Table(title="Same work? Counts on rows where no fact the rule reads is null")
    for column in (
        "benefit",
        "rows",
        "complete",
        "eligible: Entitle",
        "eligible: OpenFisca",
        "disagree",
        "Entitle undetermined",
        "…OpenFisca says no",
        "amounts",
    ):
        agree.add_column(column, justify="left" if column == "benefit" else "right")
    for a in agreements:
        agree.add_row(
            a.benefit,
            f"{a.rows:,}",
            f"{a.complete:,}",
            f"{a.entitle_eligible:,}",
            f"{a.openfisca_eligible:,}",
            f"{a.disagreements:,}",
            f"{a.entitle_undetermined:,}",
            f"{a.openfisca_no_for_undetermined:,}",
            "-" if a.amount_match is None else ("equal" if a.amount_match else "DIFFER"),
        )
    console.print(agree)
    console.print(
        "OpenFisca has no unknown: a null fact reads as false, so it answers 'no' where Entitle "
        "answers 'undetermined' (and a household at a reference address, which Entitle leaves to "
        "an officer, is a plain 'no' in OpenFisca)."
    )
    scalar_ms = max(statistics.median(v) for v in scalar.values())
    console.print(
        f"targets: columnar ≥ {TARGET_RATIO:g}× OpenFisca: "
        f"{'met' if ratio >= TARGET_RATIO else 'NOT met'} ({ratio:.2f}×); "
        f"scalar ≤ {TARGET_SCALAR_MS} ms median with trace: "
        f"{'met' if scalar_ms <= TARGET_SCALAR_MS else 'NOT met'} ({scalar_ms:.3f} ms); "
        f"lazy ≤ {TARGET_LAZY_RATIO:g}× all facts: "
        f"{'met' if lazy_s <= TARGET_LAZY_RATIO * ent_s else 'NOT met'} ({lazy_s / ent_s:.2f}×)"
    )
    console.print(f"load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    consistent = all(same[name] == len(cases[name]) for name in COMPARED)
    return 0 if consistent and all(a.disagreements == 0 for a in agreements) else 1


if __name__ == "__main__":
    raise SystemExit(main())
