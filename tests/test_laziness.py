"""The scalar engine asks only for facts that can still change the outcome."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from entitle.rules.cases import DictProvider
from entitle.rules.decision import FactRequest, Subject
from entitle.rules.loader import load_benefit
from entitle.rules.scalar import evaluate

GHENT = Path(__file__).resolve().parents[1] / "benefits" / "ghent"
AS_OF = date(2026, 3, 1)


def asked_facts(benefit: str, subject: Subject, facts: dict[tuple[str, str], object]) -> set[str]:
    provider = DictProvider({FactRequest(e, f): v for (e, f), v in facts.items()})
    evaluate(load_benefit(GHENT / f"{benefit}.yaml"), subject, provider, AS_OF)
    return {request.fact for request in provider.asked}


FAMILY = Subject("person", "pupil", "h", ("mother", "father", "pupil"))


def test_no_income_lookup_when_leefloon_decides_the_school_tariff() -> None:
    asked = asked_facts(
        "school-tariff",
        FAMILY,
        {
            ("pupil", "person.city_school_pupil"): True,
            ("pupil", "person.shared_residence"): False,
            ("pupil", "person.position_code"): "03",
            ("mother", "person.position_code"): "01",
            ("father", "person.position_code"): "02",
            ("mother", "person.ocmw_leefloon"): True,
            ("mother", "person.taxable_income"): 1_000_000,
            ("father", "person.taxable_income"): 1_000_000,
        },
    )
    assert "person.ocmw_leefloon" in asked
    assert "person.taxable_income" not in asked
    assert "person.leefloon" not in asked  # the OCMW's own data already decided


def test_no_social_or_income_data_for_a_child_outside_city_schools() -> None:
    asked = asked_facts(
        "school-tariff",
        FAMILY,
        {("pupil", "person.city_school_pupil"): False, ("mother", "person.leefloon"): True},
    )
    assert asked <= {"person.city_school_pupil", "person.shared_residence"}


def test_no_disability_data_for_a_non_resident() -> None:
    asked = asked_facts(
        "lez",
        Subject("person", "p", "h", ("p",)),
        {("p", "person.municipality_nis"): "11002", ("p", "person.disability_parking_card"): True},
    )
    # Only the first stage (residence and household composition, sensitivity 1) is asked.
    assert "person.municipality_nis" in asked
    assert asked <= {"person.municipality_nis", "person.position_code", "household.collective"}


def test_no_increased_allowance_lookup_when_budget_guidance_decides_garbage_bags() -> None:
    asked = asked_facts(
        "garbage-bags",
        Subject("household", "h", "h", ("a", "b")),
        {
            ("h", "household.municipality_nis"): "44021",
            ("h", "household.collective"): False,
            ("h", "household.reference_address"): False,
            ("a", "person.ocmw_budget_guidance"): True,
            ("a", "person.increased_allowance"): True,
        },
    )
    assert "person.ocmw_budget_guidance" in asked
    assert "person.increased_allowance" not in asked


def test_uitpas_asks_the_registry_only_when_the_city_s_own_data_does_not_decide() -> None:
    decided_locally = asked_facts(
        "uitpas",
        Subject("person", "p", "h", ("p",)),
        {("p", "person.municipality_nis"): "44021", ("p", "person.ocmw_debt_help"): True},
    )
    assert "person.increased_allowance" not in decided_locally
    needs_registry = asked_facts(
        "uitpas",
        Subject("person", "p", "h", ("p",)),
        {("p", "person.municipality_nis"): "44021", ("p", "person.ocmw_debt_help"): False},
    )
    assert "person.increased_allowance" in needs_registry
