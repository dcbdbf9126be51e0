"""Where the facts fetched beyond the hindsight minimum come from, per benefit and fact.

Offline, on a generated city's registry view (what the gateway answers, without the simulator):
a sample of persons is decided per Ghent benefit by the scalar engine, as at the desk (the
subject's household as the register lists it), and each decided subject's (outcome and every
output known) fetched facts are compared with a settling set of the hindsight minimum's size
that shares the most facts with them (`hindsight.py`). Printed per benefit and fact (and whose:
the subject, a household member, the household): facts fetched and in that minimum set per
decision, and the difference — the excess. Also the privacy-respecting minimum (`oracle.py`):
the fewest facts an order bound by the same rule as the engine (no more sensitive fact while a
less sensitive one could settle) could fetch knowing every value in advance, searched for
subjects of households of at most `--oracle-members` persons where the benefit looks at the
household (within its time limit; the others are counted as left out).

By default (`--given identification`, what the desk does: `decide.check`), the facts the desk has
before the decision are given to the engine and to both minimums, and none counts as fetched: for
a benefit that needs the household, the household composition's answer (asked to find the
household; GeefGezinssamenstelling also gives the household's residence, whether it is collective
and every member's position code and own residence). `--given none` counts every fact read.

    .venv/bin/python bench/fetch_breakdown.py --city FOLDER [--sample 300] [--benefit lez]
"""

from __future__ import annotations

import argparse
import random
import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from hindsight import all_requests, hindsight, is_open
from oracle import privacy_minimum
from rich.console import Console
from rich.table import Table

from entitle.decide.check import needs_household
from entitle.registry.population import load_population
from entitle.rules.catalogue import Catalogue, default_catalogue
from entitle.rules.decision import FactRequest, Subject, listing
from entitle.rules.loader import load_benefit
from entitle.rules.model import Benefit
from entitle.rules.scalar import evaluate
from entitle.sources.gateway import COMPOSITION
from entitle.sources.magda.facts import COMPOSITION_MEMBER_FACTS

REPO = Path(__file__).resolve().parents[1]
BENEFITS = ("uitpas", "garbage-bags", "school-tariff", "lez")
AS_OF = date(2026, 3, 1)
console = Console(width=150)


class City:
    """Every fact of the registry view, and each person's household in listing order."""

    def __init__(self, folder: Path, as_of: date) -> None:
        persons, households = load_population(folder, "registry", as_of)
        self.facts: dict[FactRequest, Any] = {}
        for row in persons.iter_rows(named=True):
            for name, value in row.items():
                if name not in ("person_id", "household_id") and value is not None:
                    self.facts[FactRequest(row["person_id"], f"person.{name}")] = value
        for row in households.iter_rows(named=True):
            for name, value in row.items():
                if name != "household_id" and value is not None:
                    self.facts[FactRequest(row["household_id"], f"household.{name}")] = value
        grouped = persons.group_by("household_id").agg("person_id", "position_code")
        self.members = {
            h: listing(zip(ids, codes, strict=True)) for h, ids, codes in grouped.iter_rows()
        }
        self.household_of = dict(zip(persons["person_id"], persons["household_id"], strict=True))
        self.persons = persons["person_id"].to_list()

    def subject(self, kind: str, person: str) -> Subject:
        household = self.household_of[person]
        subject_id = person if kind == "person" else household
        return Subject(kind, subject_id, household, self.members[household])

    def __call__(self, requests: Sequence[FactRequest]) -> dict[FactRequest, Any]:
        return {r: self.facts[r] for r in requests if r in self.facts}


def identification(
    benefit: Benefit,
    requests: Sequence[FactRequest],
    facts: dict[FactRequest, Any],
    catalogue: Catalogue,
) -> list[FactRequest]:
    """The facts the desk holds before deciding: those of the composition's answer, the members'
    residences included where it gives one (as `Gateway.from_composition`)."""
    if not needs_household(benefit):
        return []
    return [
        r
        for r in requests
        if catalogue[r.fact].source.get("service") == COMPOSITION
        or (r.fact in COMPOSITION_MEMBER_FACTS and facts.get(r) is not None)
    ]


def whose(request: FactRequest, subject: Subject) -> str:
    if request.fact.startswith("household."):
        return "household"
    return "subject" if request.entity_id == subject.id else "member"


def breakdown(
    benefit: Benefit,
    city: City,
    ids: list[str],
    catalogue: Catalogue,
    oracle_members: int,
    given_mode: str,
) -> tuple[dict[str, float], Counter[tuple[str, str]], Counter[tuple[str, str]], int]:
    fetched_n: list[int] = []
    minimum_n: list[int] = []
    private_n: list[int] = []
    private_fetched: list[int] = []  # what the engine fetched, for the subjects searched
    left_out = 0
    fetched: Counter[tuple[str, str]] = Counter()
    kept: Counter[tuple[str, str]] = Counter()
    seen: set[str] = set()
    for person in ids:
        subject = city.subject(benefit.subject, person)
        if subject.id in seen:
            continue
        seen.add(subject.id)
        asked: list[FactRequest] = []

        def provider(requests: Sequence[FactRequest], asked: list[FactRequest] = asked) -> Any:
            asked.extend(requests)
            return city(requests)

        requests = all_requests(benefit, subject, catalogue)
        facts = {r: city.facts.get(r) for r in requests}
        given = identification(benefit, requests, facts, catalogue) if given_mode != "none" else []
        known = {r: facts[r] for r in given}
        decision = evaluate(
            benefit, subject, provider, AS_OF, explain=False, catalogue=catalogue, known=known
        )
        if is_open(decision):  # nothing settles an open outcome or output
            continue
        best = hindsight(benefit, subject, facts, AS_OF, catalogue, prefer=asked, given=given)
        fetched_n.append(len(asked))
        minimum_n.append(best.minimum)
        size = len(subject.members) if needs_household(benefit) else 1
        if oracle_members and size <= oracle_members:
            found = privacy_minimum(
                benefit, subject, facts, AS_OF, catalogue, given=given, bound=len(asked)
            )
            if found is None:
                left_out += 1
            else:
                private_n.append(found)
                private_fetched.append(len(asked))
        elif oracle_members:
            left_out += 1
        for request in asked:
            fetched[(request.fact, whose(request, subject))] += 1
        for request in best.chosen:
            kept[(request.fact, whose(request, subject))] += 1
    figures = {
        "fetched": statistics.mean(fetched_n),
        "minimum": statistics.mean(minimum_n),
        "private": statistics.mean(private_n) if private_n else float("nan"),
        "private_fetched": statistics.mean(private_fetched) if private_fetched else float("nan"),
        "searched": len(private_n),
        "left_out": left_out,
    }
    return figures, fetched, kept, len(fetched_n)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", type=Path, required=True, help="a city from `entitle synth`")
    parser.add_argument("--sample", type=int, default=300, help="persons per benefit")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--benefit", action="append", choices=BENEFITS)
    parser.add_argument("--no-oracle", action="store_true", help="skip the privacy minimum")
    parser.add_argument(
        "--oracle-members",
        type=int,
        default=4,
        help="search the privacy minimum for households of at most this many persons",
    )
    parser.add_argument(
        "--given",
        choices=("none", "identification"),
        default="identification",
        help="facts at hand before deciding, not counted (default: as the desk; see the module's "
        "docstring)",
    )
    args = parser.parse_args(argv)
    city = City(args.city, AS_OF)
    ids = random.Random(args.seed).sample(city.persons, args.sample)
    catalogue = default_catalogue()
    summary = []
    for name in args.benefit or BENEFITS:
        benefit = load_benefit(REPO / "benefits" / "ghent" / f"{name}.yaml")
        members = 0 if args.no_oracle else args.oracle_members
        figures, fetched, kept, decided = breakdown(
            benefit, city, ids, catalogue, members, args.given
        )
        summary.append((name, figures, decided))
        table = Table(title=f"{name}: {decided} decided subjects, facts per decision")
        for column in ("fact", "whose", "fetched", "in minimum", "excess"):
            table.add_column(column, justify="left" if column in ("fact", "whose") else "right")
        for key in sorted(set(fetched) | set(kept), key=lambda k: kept[k] - fetched[k]):
            table.add_row(
                key[0],
                key[1],
                f"{fetched[key] / decided:.2f}",
                f"{kept[key] / decided:.2f}",
                f"{(fetched[key] - kept[key]) / decided:+.2f}",
            )
        console.print(table)
    table = Table(
        title=f"fetched against the hindsight minimum and the privacy-respecting one "
        f"(given: {args.given})"
    )
    columns = ("benefit", "decided", "fetched", "minimum", "ratio", "searched", "left out")
    for column in (*columns, "fetched there", "privacy min", "ratio"):
        table.add_column(column, justify="right")
    for name, f, decided in summary:
        table.add_row(
            name,
            str(decided),
            f"{f['fetched']:.2f}",
            f"{f['minimum']:.2f}",
            f"{f['fetched'] / f['minimum']:.2f}×",
            str(f["searched"]),
            str(f["left_out"]),
            f"{f['private_fetched']:.2f}",
            f"{f['private']:.2f}",
            f"{f['private_fetched'] / f['private']:.2f}×",
        )
    # as bench/gateway.py: the mean over benefits of facts fetched, over that of the minimum
    plain = statistics.mean(f["fetched"] for _, f, _ in summary) / statistics.mean(
        f["minimum"] for _, f, _ in summary
    )
    private = statistics.mean(f["private_fetched"] for _, f, _ in summary) / statistics.mean(
        f["private"] for _, f, _ in summary
    )
    table.add_row("average", "", "", "", f"{plain:.3f}×", "", "", "", "", f"{private:.3f}×")
    console.print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
