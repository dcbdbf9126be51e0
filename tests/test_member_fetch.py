"""A member fact is asked one member at a time, the subject's own first, then in listing order;
both engines stop at the member that settles the decision."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from test_engines_agree import build, columnar_rows

from entitle.rules.cases import DictProvider
from entitle.rules.catalogue import default_catalogue
from entitle.rules.columnar import TableProvider, evaluate_population
from entitle.rules.decision import FactRequest
from entitle.rules.loader import load_benefit
from entitle.rules.plan import plan_benefit
from entitle.rules.scalar import evaluate

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 3, 1)
CATALOGUE = default_catalogue()


def household(allowances: list[bool | None], **extra: Any) -> dict[str, Any]:
    person = {
        "birth_date": date(1980, 1, 1),
        "municipality_nis": "44021",
        "reference_address": False,
        "shared_residence": False,
        "ocmw_leefloon": False,
        "ocmw_debt_help": False,
        "ocmw_budget_guidance": False,
        "city_school_pupil": False,
        "leefloon": False,
        "disability_parking_card": False,
        "disability_parking_card_child": False,
        "taxable_income": 2_000_000,
    }
    codes = ["01", "02", "03", "03", "03"]
    members = [
        person | {"position_code": codes[i], "increased_allowance": a} | extra
        for i, a in enumerate(allowances)
    ]
    return {
        "municipality_nis": "44021",
        "reference_address": False,
        "collective": False,
        "members": members,
    }


def test_garbage_bags_stop_at_the_first_member_with_the_allowance() -> None:
    benefit = load_benefit(ROOT / "benefits" / "ghent" / "garbage-bags.yaml")
    population, facts, subjects = build([household([False, True, True, False])])
    [subject] = [s for s in subjects if s.kind == "household"]
    provider = DictProvider(facts)
    decision = evaluate(benefit, subject, provider, AS_OF)
    assert decision.outcome == "eligible"
    allowances = [r for r in provider.asked if r.fact == "person.increased_allowance"]
    # one member per round trip, in listing order, up to the partner who has it
    assert allowances == [FactRequest(m, "person.increased_allowance") for m in subject.members[:2]]
    assert provider.calls == len(provider.asked)  # every request alone
    counting = TableProvider(population)
    frame = evaluate_population(benefit, population, AS_OF, counting, whose=True)
    row = columnar_rows(benefit, frame)[subject.id]
    assert row["fetch_count"] == decision.fetch_count
    assert counting.requested["person.increased_allowance"] == 2


def test_lez_asks_the_members_allowance_at_once() -> None:
    """LEZ: after the subject's own allowance alone, the household's collective flag (less
    sensitive) could refute the family exemption while other members' allowances are still
    asked; so that fact is asked of every member at once, as before."""
    benefit = load_benefit(ROOT / "benefits" / "ghent" / "lez.yaml")
    _, facts, subjects = build([household([False, False, True])])
    child = next(s for s in subjects if s.kind == "person" and s.id.endswith("p2"))
    provider = DictProvider(facts)
    evaluate(benefit, child, provider, AS_OF)
    allowances = [r for r in provider.asked if r.fact == "person.increased_allowance"]
    assert sorted(allowances) == sorted(
        FactRequest(m, "person.increased_allowance") for m in child.members
    )
    assert "person.increased_allowance" not in plan_benefit(benefit, CATALOGUE).one_member
