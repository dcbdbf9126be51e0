"""Bounds on unknown numbers: never contradict a completion of the unknown facts (brute force)."""

from __future__ import annotations

import itertools
import math
import operator
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from entitle.rules.bounds import by_bounds, interval_op
from entitle.rules.cases import DictProvider
from entitle.rules.catalogue import default_catalogue
from entitle.rules.columnar import Population, TableProvider, evaluate_population
from entitle.rules.decision import FactRequest, Subject
from entitle.rules.loader import load_benefit
from entitle.rules.scalar import evaluate

ROOT = Path(__file__).resolve().parents[1]
SCHOOL = load_benefit(ROOT / "benefits" / "ghent" / "school-tariff.yaml")
AS_OF = date(2026, 3, 1)
CMP = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}

interval_st = st.tuples(st.integers(-6, 6), st.integers(0, 6)).map(lambda t: (t[0], t[0] + t[1]))


@given(a=interval_st, b=interval_st, op=st.sampled_from(["+", "-", "*"]))
def test_interval_arithmetic_is_the_hull_of_every_completion(
    a: tuple[int, int], b: tuple[int, int], op: str
) -> None:
    fn = {"+": operator.add, "-": operator.sub, "*": operator.mul}[op]
    values = [fn(x, y) for x in range(a[0], a[1] + 1) for y in range(b[0], b[1] + 1)]
    assert interval_op(op, a, b) == (min(values), max(values))


@given(a=interval_st, b=interval_st, op=st.sampled_from(list(CMP)))
def test_a_comparison_is_settled_exactly_when_every_completion_agrees(
    a: tuple[int, int], b: tuple[int, int], op: str
) -> None:
    answers = {CMP[op](x, y) for x in range(a[0], a[1] + 1) for y in range(b[0], b[1] + 1)}
    settled = by_bounds(op, (float(a[0]), float(a[1])), (float(b[0]), float(b[1])))
    assert settled == (answers.pop() if len(answers) == 1 else None)


def test_an_unbounded_side_settles_only_what_it_must() -> None:
    income_at_least = (5_855_300.0, math.inf)  # a known €58,553 plus an unknown income ≥ 0
    assert by_bounds("<", income_at_least, (3_300_000.0, 3_300_000.0)) is False
    assert by_bounds("<", (2_000_000.0, math.inf), (3_300_000.0, 3_300_000.0)) is None


# --------------------------------------------------------------------------- both engines

INCOMES = [0, 1_500_000, 2_200_000, 2_400_000, 3_200_000, 3_400_000, 5_855_300, None]  # cents
COMPLETIONS = [0, 2_299_999, 2_300_000, 3_299_999, 3_300_000, 10**10]  # the domain's edges too
member_st = st.fixed_dictionaries(
    {
        "position_code": st.sampled_from(["01", "02", "03", "21"]),
        "taxable_income": st.sampled_from(INCOMES),
        "leefloon": st.sampled_from([False, False, None]),
    }
)


def _decide(members: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The pupil's decision by both engines: (outcome, conditions) each."""
    ids = tuple(f"p{i}" for i in range(len(members) + 1))
    pupil = {"position_code": "03", "taxable_income": None, "leefloon": False}
    rows = [
        {
            "person_id": pid,
            "household_id": "h",
            "city_school_pupil": i == 0,
            "shared_residence": False,
            "ocmw_leefloon": False,
            **member,
        }
        for i, (pid, member) in enumerate(zip(ids, [pupil, *members], strict=True))
    ]
    facts = {
        FactRequest(row["person_id"], f"person.{k}"): v
        for row in rows
        for k, v in row.items()
        if k not in ("person_id", "household_id") and v is not None
    }
    scalar = evaluate(SCHOOL, Subject("person", "p0", "h", ids), DictProvider(facts), AS_OF)
    schema = {
        "person_id": pl.String(),
        "household_id": pl.String(),
        "taxable_income": pl.Int64(),
        "position_code": pl.String(),
    }
    population = Population(
        pl.DataFrame(rows, schema_overrides=schema), pl.DataFrame({"household_id": ["h"]}), ["p0"]
    )
    row = evaluate_population(SCHOOL, population, AS_OF, TableProvider(population)).row(
        0, named=True
    )
    conditions = {name: row[f"cond_{name}"] for name in SCHOOL.conditions}
    return (
        {"outcome": str(scalar.outcome), "conditions": scalar.conditions},
        {"outcome": row["outcome"], "conditions": conditions},
    )


@settings(max_examples=40, deadline=None)
@given(members=st.lists(member_st, min_size=1, max_size=3))
def test_decisions_with_unknown_incomes_never_contradict_a_completion(
    members: list[dict[str, Any]],
) -> None:
    """Brute force over the income domain: what the engines settle holds in every completion, and
    an income condition every completion agrees on is settled (sums are monotone)."""
    scalar, columnar = _decide(members)
    assert scalar == columnar
    unknown = [i for i, m in enumerate(members) if m["taxable_income"] is None]
    completions = []
    for values in itertools.product(COMPLETIONS, repeat=len(unknown)):
        filled = [dict(m) for m in members]
        for i, value in zip(unknown, values, strict=True):
            filled[i]["taxable_income"] = value
        completions.append(_decide(filled)[0])
    if scalar["outcome"] != "undetermined":
        assert {c["outcome"] for c in completions} == {scalar["outcome"]}
    for name in ("income_below_care_ceiling", "income_below_meal_ceiling"):
        seen = {c["conditions"][name] for c in completions}
        if scalar["conditions"][name] is not None:
            assert seen == {scalar["conditions"][name]}
        elif len(seen) == 1 and None not in seen:
            consulted = scalar["conditions"]
            assert consulted[name] is not None, (name, seen)


def test_the_catalogue_declares_incomes_non_negative() -> None:
    assert default_catalogue()["person.taxable_income"].domain == (0.0, math.inf)
