"""The scalar and columnar engines agree on every subject; laziness never changes an outcome."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entitle.rules.cases import DictProvider
from entitle.rules.catalogue import default_catalogue
from entitle.rules.columnar import (
    Population,
    TableProvider,
    evaluate_population,
    fact_names,
    missing_facts,
)
from entitle.rules.decision import Decision, FactRequest, Subject, listing
from entitle.rules.loader import load_benefit
from entitle.rules.model import Benefit
from entitle.rules.plan import plan_benefit
from entitle.rules.scalar import evaluate

ROOT = Path(__file__).resolve().parents[1]
BENEFITS = [
    *sorted(
        p
        for p in (ROOT / "benefits" / "ghent").glob("*.yaml")
        if not p.name.endswith(".tests.yaml")
    ),
    ROOT / "tests" / "benefits" / "kitchen-sink.yaml",
]
TRI = [True, False, None]
EUROS = [0, 1_000_000, 2_099_999, 2_300_000, 2_500_050, 3_299_999, 3_300_000, 6_000_000, None]
PERSON_VALUES: dict[str, list[Any]] = {
    "birth_date": [date(1950, 5, 1), date(1990, 3, 2), date(2008, 3, 1), date(2016, 9, 1), None],
    "municipality_nis": ["44021", "44021", "44019", "11002", None],
    "reference_address": [False, False, False, True, None],
    "position_code": ["01", "02", "03", "12", "21", None],
    "shared_residence": TRI,
    "ocmw_leefloon": TRI,
    "ocmw_debt_help": TRI,
    "ocmw_budget_guidance": TRI,
    "city_school_pupil": TRI,
    "increased_allowance": TRI,
    "leefloon": TRI,
    "disability_parking_card": TRI,
    "disability_parking_card_child": TRI,
    "taxable_income": EUROS,
}
HOUSEHOLD_VALUES: dict[str, list[Any]] = {
    "municipality_nis": ["44021", "44021", "44021", "11002", None],
    "reference_address": [False, False, False, True, None],
    "collective": [False, False, False, True, None],
}
PERSON_SCHEMA = {
    "birth_date": pl.Date(),
    "municipality_nis": pl.String(),
    "position_code": pl.String(),
    "taxable_income": pl.Int64(),
}


def _dtype(name: str) -> pl.DataType:
    return PERSON_SCHEMA.get(name, pl.Boolean())


person_st = st.fixed_dictionaries({k: st.sampled_from(v) for k, v in PERSON_VALUES.items()})
household_st = st.fixed_dictionaries(
    {
        **{k: st.sampled_from(v) for k, v in HOUSEHOLD_VALUES.items()},
        "members": st.lists(person_st, min_size=1, max_size=5),
    }
)
population_st = st.lists(household_st, min_size=1, max_size=8)
as_of_st = st.sampled_from([date(2025, 6, 30), date(2026, 3, 1), date(2026, 11, 28)])


def build(
    households: list[dict[str, Any]],
) -> tuple[Population, dict[FactRequest, Any], list[Subject]]:
    """Tables for the columnar engine; facts and subjects for the scalar engine."""
    persons: list[dict[str, Any]] = []
    house_rows: list[dict[str, Any]] = []
    facts: dict[FactRequest, Any] = {}
    subjects: list[Subject] = []
    for h, household in enumerate(households):
        hid = f"h{h}"
        house_rows.append({"household_id": hid, **{k: household[k] for k in HOUSEHOLD_VALUES}})
        for k in HOUSEHOLD_VALUES:
            if household[k] is not None:
                facts[FactRequest(hid, f"household.{k}")] = household[k]
        rows = [(f"{hid}p{i}", m) for i, m in enumerate(household["members"])]
        ids = listing((pid, member["position_code"]) for pid, member in rows)
        for pid, member in rows:
            persons.append({"person_id": pid, "household_id": hid, **member})
            for k, v in member.items():
                if v is not None:
                    facts[FactRequest(pid, f"person.{k}")] = v
            subjects.append(Subject("person", pid, hid, ids))
        subjects.append(Subject("household", hid, hid, ids))
    person_schema = {"person_id": pl.String(), "household_id": pl.String()} | {
        k: _dtype(k) for k in PERSON_VALUES
    }
    house_schema = {"household_id": pl.String(), "municipality_nis": pl.String()} | {
        "reference_address": pl.Boolean(),
        "collective": pl.Boolean(),
    }
    population = Population(
        pl.DataFrame(persons, schema=person_schema), pl.DataFrame(house_rows, schema=house_schema)
    )
    return population, facts, subjects


def comparable(decision: Decision) -> dict[str, Any]:
    return {
        "outcome": str(decision.outcome),
        "outputs": decision.outputs,
        "conditions": decision.conditions,
        "facts_used": decision.facts_used,
        "facts_missing": decision.facts_missing,
        "fetch_count": decision.fetch_count,
        "valid_until": decision.valid_until,
        "missing": decision.missing,
        "at_least": decision.at_least,
    }


def columnar_rows(benefit: Benefit, frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
    rows = {}
    for row in frame.iter_rows(named=True):
        eligible = row["valid_until"] is not None
        rows[row["subject_id"]] = {
            "outcome": row["outcome"],
            "outputs": {o: row[f"out_{o}"] for o in benefit.outputs} if eligible else {},
            "conditions": {c: row[f"cond_{c}"] for c in benefit.conditions},
            "facts_used": fact_names(benefit, row["facts_used"]),
            "facts_missing": fact_names(benefit, row["facts_missing"]),
            "fetch_count": row["fetch_count"],
            "valid_until": row["valid_until"],
            "missing": missing_facts(row.get("missing")),
            "at_least": {
                o.name: row[f"least_{o.name}"]
                for o in benefit.outputs.values()
                if o.levels and row[f"least_{o.name}"] is not None
            },
        }
    return rows


@pytest.fixture(scope="module", params=BENEFITS, ids=lambda p: p.stem)
def benefit(request: pytest.FixtureRequest) -> Benefit:
    return load_benefit(request.param)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(households=population_st, as_of=as_of_st)
def test_scalar_and_columnar_agree(
    benefit: Benefit, households: list[dict[str, Any]], as_of: date
) -> None:
    population, facts, subjects = build(households)
    frame = evaluate_population(benefit, population, as_of, TableProvider(population), whose=True)
    columnar = columnar_rows(benefit, frame)
    mine = [s for s in subjects if s.kind == benefit.subject]
    assert len(columnar) == len(mine)
    for subject in mine:
        decision = evaluate(benefit, subject, DictProvider(facts), as_of)
        assert comparable(decision) == columnar[subject.id], subject


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(households=population_st, as_of=as_of_st)
def test_laziness_never_changes_the_outcome(
    benefit: Benefit, households: list[dict[str, Any]], as_of: date
) -> None:
    """Deciding with every fact at hand gives the same outcome and outputs as fetching lazily."""
    _, facts, subjects = build(households)
    plan = plan_benefit(benefit, default_catalogue())
    for subject in (s for s in subjects if s.kind == benefit.subject):
        everything = {
            FactRequest(entity, fact): facts.get(FactRequest(entity, fact))
            for fact in plan.facts
            for entity in (
                subject.members
                if fact in plan.member_facts
                else [subject.household_id if fact.startswith("household.") else subject.id]
            )
        }
        full = evaluate(benefit, subject, DictProvider({}), as_of, known=everything)
        lazy = evaluate(benefit, subject, DictProvider(facts), as_of)
        assert (lazy.outcome, lazy.outputs) == (full.outcome, full.outputs)
        assert lazy.fetch_count <= full.fetch_count


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(households=population_st, as_of=as_of_st)
def test_prefilled_columnar_run_matches_the_lazy_run(
    benefit: Benefit, households: list[dict[str, Any]], as_of: date
) -> None:
    """With every fact at hand (one pass) the outcomes and outputs are those of lazy fetching."""
    population, _, _ = build(households)
    lazy = columnar_rows(benefit, evaluate_population(benefit, population, as_of, whose=True))
    full = columnar_rows(
        benefit, evaluate_population(benefit, population, as_of, prefill=True, whose=True)
    )
    assert {k: (v["outcome"], v["outputs"]) for k, v in lazy.items()} == {
        k: (v["outcome"], v["outputs"]) for k, v in full.items()
    }


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(households=population_st, as_of=as_of_st, seed=st.integers(0, 2**16))
def test_row_order_of_the_tables_does_not_matter(
    benefit: Benefit, households: list[dict[str, Any]], as_of: date, seed: int
) -> None:
    """Persons in any order (not grouped by household, members shuffled: the join path) decide
    exactly as grouped ones, metadata included (`fetch_count`, `by_bounds`, the members' places
    in `missing`): the listing a member fact is asked in comes from the data."""
    population, _, _ = build(households)
    shuffled = Population(
        population.persons.sample(fraction=1.0, shuffle=True, seed=seed),
        population.households.sample(fraction=1.0, shuffle=True, seed=seed + 1),
    )
    assert columnar_rows(
        benefit, evaluate_population(benefit, shuffled, as_of, whose=True)
    ) == columnar_rows(benefit, evaluate_population(benefit, population, as_of, whose=True))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(households=population_st, as_of=as_of_st)
def test_members_asked_in_turn_within_a_pass_as_over_passes(
    benefit: Benefit,
    households: list[dict[str, Any]],
    as_of: date,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A member fact that only one any/all aggregate reads is asked member after member within
    one pass: the same members asked, the same decisions, facts and counts as one member per
    pass (the general path), with a provider and from the tables."""
    import entitle.rules.columnar as columnar

    population, _, _ = build(households)

    def frames() -> list[pl.DataFrame]:
        return [
            evaluate_population(benefit, population, as_of, provider, whose=True)
            for provider in (TableProvider(population), None)
        ]

    in_turn = frames()
    with monkeypatch.context() as patch:
        patch.setattr(columnar, "_in_turn", lambda program: {})
        over_passes = frames()
    for fast, general in zip(in_turn, over_passes, strict=True):
        assert fast.equals(general)
