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
    # Only the residence is asked: the household's composition settles nothing on its own.
    assert asked == {"person.municipality_nis"}


def test_no_budget_guidance_lookup_when_the_increased_allowance_decides_garbage_bags() -> None:
    """Within a phase the likeliest ground is asked first; the other is asked only if needed."""
    household = Subject("household", "h", "h", ("a", "b"))
    place = {
        ("h", "household.municipality_nis"): "44021",
        ("h", "household.collective"): False,
        ("h", "household.reference_address"): False,
    }
    decided = asked_facts(
        "garbage-bags",
        household,
        {
            **place,
            ("a", "person.ocmw_budget_guidance"): True,
            ("a", "person.increased_allowance"): True,
        },
    )
    assert "person.increased_allowance" in decided
    assert "person.ocmw_budget_guidance" not in decided
    not_decided = asked_facts(
        "garbage-bags",
        household,
        {**place, ("a", "person.ocmw_budget_guidance"): True},
    )
    assert "person.ocmw_budget_guidance" in not_decided


def test_uitpas_asks_the_other_grounds_only_when_the_increased_allowance_does_not_decide() -> None:
    decided = asked_facts(
        "uitpas",
        Subject("person", "p", "h", ("p",)),
        {
            ("p", "person.municipality_nis"): "44021",
            ("p", "person.increased_allowance"): True,
            ("p", "person.ocmw_debt_help"): True,
        },
    )
    assert decided == {"person.municipality_nis", "person.increased_allowance"}
    not_decided = asked_facts(
        "uitpas",
        Subject("person", "p", "h", ("p",)),
        {("p", "person.municipality_nis"): "44021", ("p", "person.ocmw_debt_help"): True},
    )
    assert "person.ocmw_debt_help" in not_decided


def test_a_non_resident_has_no_social_status_read() -> None:
    asked = asked_facts(
        "uitpas",
        Subject("person", "p", "h", ("p",)),
        {("p", "person.municipality_nis"): "11002", ("p", "person.increased_allowance"): True},
    )
    assert asked == {"person.municipality_nis"}
