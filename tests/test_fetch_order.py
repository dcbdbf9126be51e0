"""The fetch order: phases by sensitivity, and no more sensitive fact while a less sensitive one
could settle the decision."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from test_engines_agree import HOUSEHOLD_VALUES, PERSON_VALUES, as_of_st, build, population_st

from entitle.rules.catalogue import default_catalogue
from entitle.rules.decision import Decision, FactRequest, Subject
from entitle.rules.loader import load_benefit
from entitle.rules.model import Benefit
from entitle.rules.plan import plan_benefit
from entitle.rules.scalar import evaluate

ROOT = Path(__file__).resolve().parents[1]
BENEFITS = [
    *sorted(p for p in (ROOT / "benefits").glob("*/*.yaml") if not p.name.endswith(".tests.yaml")),
    ROOT / "tests" / "benefits" / "kitchen-sink.yaml",
]
CATALOGUE = default_catalogue()


@pytest.fixture(params=BENEFITS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def benefit(request: pytest.FixtureRequest) -> Benefit:
    return load_benefit(request.param)


def test_stages_run_in_phases_and_no_fact_before_its_sensitivity(benefit: Benefit) -> None:
    plan = plan_benefit(benefit, CATALOGUE)
    phases = [stage.phase for stage in plan.stages]
    assert phases == sorted(phases)
    assert [stage.index for stage in plan.stages] == list(range(1, len(plan.stages) + 1))
    for stage in plan.stages:
        assert len(stage.facts) == 1
        assert stage.phase >= stage.sensitivity
    assert set(plan.stage_of) == set(plan.facts)


def test_the_residence_comes_before_every_social_status() -> None:
    for name in ("uitpas", "lez"):
        plan = plan_benefit(load_benefit(ROOT / "benefits" / "ghent" / f"{name}.yaml"), CATALOGUE)
        assert plan.stages[0].facts[0].name == "person.municipality_nis"
        assert plan.phase_of["person.municipality_nis"] == 1
    lez = plan_benefit(load_benefit(ROOT / "benefits" / "ghent" / "lez.yaml"), CATALOGUE)
    # the household's composition settles nothing on its own: it waits for the social statuses
    assert lez.phase_of["household.collective"] == 2
    assert lez.stage_of["person.increased_allowance"] < lez.stage_of["household.collective"]


def _values(request: FactRequest) -> list[Any]:
    entity, field = request.fact.split(".", 1)
    pool = HOUSEHOLD_VALUES if entity == "household" else PERSON_VALUES
    return [v for v in pool.get(field, [True, False]) if v is not None]


def _settled(decision: Decision) -> bool:
    if decision.outcome == "not_eligible":
        return True
    return decision.outcome == "eligible" and all(v is not None for v in decision.outputs.values())


def _candidates(benefit: Benefit, subject: Subject) -> list[FactRequest]:
    plan = plan_benefit(benefit, CATALOGUE)
    out = set()
    for name, spec in plan.facts.items():
        if spec.entity == "household":
            out.add(FactRequest(subject.household_id, name))
            continue
        if subject.kind == "person":
            out.add(FactRequest(subject.id, name))
        if name in plan.member_facts:
            out.update(FactRequest(m, name) for m in subject.members)
    return sorted(out)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(households=population_st, as_of=as_of_st)
def test_no_more_sensitive_fact_while_a_less_sensitive_one_could_settle(
    benefit: Benefit, households: list[dict[str, Any]], as_of: date
) -> None:
    """Each time the engine asks a fact, no unknown less sensitive fact, whatever its value, would
    have settled the decision (outcome and outputs) together with the facts already known."""
    _check_the_order(benefit, households, as_of, given=())


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(households=population_st, as_of=as_of_st)
def test_the_same_with_the_household_composition_at_hand(
    benefit: Benefit, households: list[dict[str, Any]], as_of: date
) -> None:
    """As above, with the facts the desk has before deciding a household-based benefit (the
    composition's answer: the household's residence and collective flag, the members' position
    codes) given as known (bench/fetch_breakdown.py --given identification)."""
    composition = ("household.municipality_nis", "household.collective", "person.position_code")
    _check_the_order(benefit, households, as_of, given=composition)


def _check_the_order(
    benefit: Benefit, households: list[dict[str, Any]], as_of: date, given: Sequence[str]
) -> None:
    _, facts, subjects = build(households)
    for subject in [s for s in subjects if s.kind == benefit.subject][:3]:
        candidates = _candidates(benefit, subject)
        known: dict[FactRequest, Any] = {r: facts.get(r) for r in candidates if r.fact in given}
        at_hand = dict(known)

        def provider(
            requests: Sequence[FactRequest],
            subject: Subject = subject,
            candidates: list[FactRequest] = candidates,
            known: dict[FactRequest, Any] = known,
        ) -> Mapping[FactRequest, Any]:
            level = min(CATALOGUE[r.fact].sensitivity for r in requests)
            for other in candidates:
                if other in known or CATALOGUE[other.fact].sensitivity >= level:
                    continue
                for value in _values(other):
                    trial = evaluate(
                        benefit,
                        subject,
                        lambda _: {},
                        as_of,
                        explain=False,
                        known={**known, other: value},
                    )
                    assert not _settled(trial), (other, value, sorted(requests))
            answer = {r: facts.get(r) for r in requests}
            known.update(answer)
            return {r: v for r, v in answer.items() if v is not None}

        evaluate(benefit, subject, provider, as_of, explain=False, known=at_hand)
