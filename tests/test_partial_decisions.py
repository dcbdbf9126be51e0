"""Partial decisions (eligible with open outputs and their certain minimum), whose fact is missing,
and the consumers of both: the desk card, the API shape and a campaign's band."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from entitle.decide.campaign.definition import load_campaign
from entitle.decide.campaign.evaluate import certain_band
from entitle.decide.check import CheckResult
from entitle.decide.scale.partitions import decision_counts
from entitle.decide.whose import member_relation, member_role
from entitle.rules.cases import DictProvider
from entitle.rules.columnar import (
    Population,
    TableProvider,
    decisions_from_frame,
    evaluate_population,
)
from entitle.rules.decision import FactRequest, MissingFact, Subject
from entitle.rules.loader import RuleFileError, load_benefit
from entitle.rules.logic import Outcome
from entitle.rules.scalar import evaluate
from entitle.web.desk import build_card
from entitle.web.i18n import Translator

ROOT = Path(__file__).resolve().parents[1]
LEZ = load_benefit(ROOT / "benefits" / "ghent" / "lez.yaml")
SCHOOL = load_benefit(ROOT / "benefits" / "ghent" / "school-tariff.yaml")
AS_OF = date(2026, 3, 1)
PRICES = ["tariff", "week_price", "month_price", "four_months_price", "year_price"]


def _lez_household(partner: dict[str, Any]) -> tuple[Subject, dict[FactRequest, Any]]:
    me = {
        "municipality_nis": "44021",
        "increased_allowance": True,
        "disability_parking_card": False,
        "disability_parking_card_child": False,
    }
    facts = {FactRequest("me", f"person.{k}"): v for k, v in me.items()}
    facts |= {FactRequest("partner", f"person.{k}"): v for k, v in partner.items() if v is not None}
    return Subject("person", "me", "h", ("me", "partner")), facts


def test_a_missing_partner_status_leaves_the_exemption_open_not_the_decision() -> None:
    subject, facts = _lez_household({"increased_allowance": None, "disability_parking_card": None})
    decision = evaluate(LEZ, subject, DictProvider(facts), AS_OF)
    assert decision.outcome == Outcome.ELIGIBLE and decision.partial
    assert sorted(decision.open_outputs) == sorted(PRICES)
    assert decision.at_least == {"tariff": "reduced"}
    assert decision.valid_until == date(2026, 12, 31)
    owners = {(m.fact, m.whose, m.member) for m in decision.missing}
    assert ("person.increased_allowance", "member", 2) in owners
    assert all(set(m.settles) == set(PRICES) for m in decision.missing)
    shown = decision.to_dict()
    assert shown["open_outputs"] and shown["at_least"] == {"tariff": "reduced"}
    assert "partner" not in str(shown["missing"])  # a place in the listing, never an id


def test_a_known_partner_without_a_card_settles_the_reduced_tariff() -> None:
    subject, facts = _lez_household(
        {
            "increased_allowance": False,
            "disability_parking_card": False,
            "disability_parking_card_child": False,
        }
    )
    decision = evaluate(LEZ, subject, DictProvider(facts), AS_OF)
    assert decision.outcome == Outcome.ELIGIBLE and not decision.partial
    assert decision.outputs["tariff"] == "reduced" and decision.at_least == {}


def test_the_columnar_engine_gives_the_same_partial_decision() -> None:
    subject, facts = _lez_household({"increased_allowance": None, "disability_parking_card": None})
    persons = pl.DataFrame(
        [
            {
                "person_id": "me",
                "household_id": "h",
                "municipality_nis": "44021",
                "increased_allowance": True,
                "disability_parking_card": False,
                "disability_parking_card_child": False,
            },
            {
                "person_id": "partner",
                "household_id": "h",
                "municipality_nis": "44021",
                "increased_allowance": None,
                "disability_parking_card": None,
                "disability_parking_card_child": None,
            },
        ]
    )
    population = Population(persons, pl.DataFrame({"household_id": ["h"]}), ["me"])
    frame = evaluate_population(LEZ, population, AS_OF, TableProvider(population), whose=True)
    assert frame["least_tariff"].to_list() == ["reduced"]
    columnar = decisions_from_frame(LEZ, frame, AS_OF)["me"]
    scalar = evaluate(LEZ, subject, DictProvider(facts), AS_OF)
    assert (columnar.outcome, columnar.missing, columnar.at_least) == (
        scalar.outcome,
        scalar.missing,
        scalar.at_least,
    )


def test_a_bound_decided_pupil_is_flagged_in_the_columnar_result() -> None:
    persons = pl.DataFrame(
        {
            "person_id": ["pupil", "father", "partner"],
            "household_id": ["h", "h", "h"],
            "city_school_pupil": [True, None, None],
            "shared_residence": [False, None, None],
            "position_code": ["03", "01", "02"],
            "leefloon": [False, False, False],
            "ocmw_leefloon": [False, False, False],
            "taxable_income": [None, None, 5_855_300],
        }
    )
    population = Population(persons, pl.DataFrame({"household_id": ["h"]}), ["pupil"])
    row = evaluate_population(SCHOOL, population, AS_OF).row(0, named=True)
    assert (row["outcome"], row["by_bounds"]) == ("not_eligible", True)


def test_the_desk_card_names_whose_fact_is_missing_and_what_is_certain() -> None:
    subject, facts = _lez_household({"increased_allowance": None, "disability_parking_card": None})
    decision = evaluate(LEZ, subject, DictProvider(facts), AS_OF)
    result = CheckResult(decision, {}, 3, {1: "01", 2: "02"})
    card = build_card(LEZ, result, LEZ.purpose)
    allowance = next(m for m in card.missing if m.fact == "person.increased_allowance")
    assert allowance.whose == {"nl": "partner", "en": "partner"}
    assert allowance.description["nl"] == "verhoogde tegemoetkoming"
    tariff = next(line for line in card.outputs if line.name == "tariff")
    assert (tariff.open, tariff.at_least, tariff.value) == (True, "reduced", None)
    assert tariff.at_least_text == {"nl": "verlaagd tarief", "en": "reduced tariff"}
    shown = card.to_json()
    assert shown["outcome"] == "eligible" and shown["at_least"] == {"tariff": "reduced"}
    assert set(shown["open_outputs"]) == set(PRICES)
    assert {
        "fact": "person.increased_allowance",
        "whose": {"nl": "partner", "en": "partner"},
    }.items() <= next(
        m for m in shown["missing"] if m["fact"] == "person.increased_allowance"
    ).items()


@pytest.mark.parametrize(
    ("place", "codes", "nl", "en"),
    [
        (1, {1: "01", 2: "02"}, "uw partner", "your partner"),
        (1, {1: "03", 2: "01"}, "uw ouder", "your parent"),
        (None, {1: "01", 2: "02"}, "gezinslid 2 (partner)", "household member 2 (partner)"),
    ],
)
def test_the_card_says_what_is_certain_what_is_open_and_whose_fact_settles_it(
    place: int | None, codes: dict[int, str | None], nl: str, en: str
) -> None:
    subject, facts = _lez_household(
        {"increased_allowance": None, "disability_parking_card": None, "position_code": "02"}
    )
    facts |= {
        FactRequest("me", "person.position_code"): "01",
        FactRequest("partner", "person.disability_parking_card_child"): False,
        FactRequest("h", "household.collective"): False,
    }
    decision = evaluate(LEZ, subject, DictProvider(facts), AS_OF)
    result = CheckResult(decision, {}, 3, codes, subject_place=place)
    card = build_card(LEZ, result, LEZ.purpose)
    assert [part.output for part in card.open_parts] == ["tariff"]  # the prices have no levels
    dutch = card.open_parts[0].said(Translator("nl"))
    assert dutch["certain"] == "zeker: verlaagd tarief"
    assert dutch["open"] == "nog open: vrijstelling"
    facts = "parkeerkaart voor personen met een handicap en verhoogde tegemoetkoming"
    assert dutch["missing"] == f"ontbreekt: {facts} van {nl}"
    english = card.open_parts[0].said(Translator("en"))
    assert english["certain"] == "certain: reduced tariff"
    assert english["open"] == "still open: exemption"
    facts = "disability parking card and increased allowance (VT/BIM)"
    assert english["missing"] == f"missing: {facts} of {en}"
    allowance = next(m for m in card.missing if m.fact == "person.increased_allowance")
    assert allowance.relation == {"nl": nl, "en": en}  # the list of what is missing says the same
    shown = card.to_json()["open_parts"]
    assert shown[0]["certain"] == {"nl": "verlaagd tarief", "en": "reduced tariff"}
    assert shown[0]["possible"] == [{"nl": "vrijstelling", "en": "exemption"}]


def test_the_citizens_own_missing_fact_is_named_without_an_owner() -> None:
    subject, facts = _lez_household(
        {
            "increased_allowance": False,
            "disability_parking_card": False,
            "disability_parking_card_child": False,
        }
    )
    del facts[FactRequest("me", "person.disability_parking_card")]
    facts |= {
        FactRequest("me", "person.position_code"): "01",
        FactRequest("partner", "person.position_code"): "02",
        FactRequest("h", "household.collective"): False,
    }
    decision = evaluate(LEZ, subject, DictProvider(facts), AS_OF)
    card = build_card(LEZ, CheckResult(decision, {}, 3, {1: "01", 2: "02"}, subject_place=1), "p")
    said = card.open_parts[0].said(Translator("nl"))
    assert said == {
        "certain": "zeker: verlaagd tarief",
        "open": "nog open: vrijstelling",
        "missing": "ontbreekt: parkeerkaart voor personen met een handicap",
    }


def test_a_settled_tariff_has_no_open_part() -> None:
    subject, facts = _lez_household(
        {
            "increased_allowance": False,
            "disability_parking_card": False,
            "disability_parking_card_child": False,
        }
    )
    decision = evaluate(LEZ, subject, DictProvider(facts), AS_OF)
    card = build_card(LEZ, CheckResult(decision, {}, 3, {1: "01", 2: "02"}, subject_place=1), "p")
    assert card.open_parts == [] and card.to_json()["open_parts"] == []


@pytest.mark.parametrize(
    ("subject_code", "member_code", "nl", "en"),
    [
        ("01", "02", "uw partner", "your partner"),
        ("01", "13", "uw kind", "your child"),
        ("02", "01", "uw partner", "your partner"),
        ("02", "03", "uw kind", "your child"),
        ("03", "02", "uw ouder", "your parent"),
        ("03", "03", "uw broer of zus", "your sibling"),
        ("12", "01", "gezinslid 2 (referentiepersoon)", "household member 2 (reference person)"),
        (None, None, "gezinslid 2", "household member 2"),
    ],
)
def test_members_are_named_by_their_relation_to_the_subject(
    subject_code: str | None, member_code: str | None, nl: str, en: str
) -> None:
    item = MissingFact("person.x", "member", 2, ("tariff",))
    assert member_relation(item, subject_code, member_code, "nl") == nl
    assert member_relation(item, subject_code, member_code, "en") == en


@pytest.mark.parametrize(
    ("item", "code", "words"),
    [
        (MissingFact("person.x", "member", 2, ("eligible",)), "02", "partner"),
        (MissingFact("person.x", "member", 3, ("eligible",)), "03", "kind"),
        (MissingFact("person.x", "member", 4, ("eligible",)), None, "gezinslid 4"),
        (MissingFact("person.x", "subject", None, ("eligible",)), None, "de burger zelf"),
        (MissingFact("household.x", "household", None, ("eligible",)), None, "het gezin"),
    ],
)
def test_members_are_named_by_role(item: MissingFact, code: str | None, words: str) -> None:
    assert member_role(item, code, "nl") == words


LEVELS = """\
id: test.levels
version: "1"
title: {nl: T, en: T}
authority: Test
legal_basis: {text: {nl: wet, en: law}}
purpose: test-levels
subject: person
validity: calendar-year
conditions:
  resident: {when: person.municipality_nis == "44021", text: {nl: woont hier, en: lives here}}
eligible: resident
outputs:
  tariff:
    value: if person.increased_allowance then "low" else "high"
    levels: LEVELS
"""


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        ("[low]", "'high' is not one of them"),
        ("[low, low]", "levels must be distinct"),
    ],
)
def test_levels_must_cover_every_branch(tmp_path: Path, levels: str, message: str) -> None:
    path = tmp_path / "levels.yaml"
    path.write_text(LEVELS.replace("LEVELS", levels), encoding="utf-8")
    with pytest.raises(RuleFileError, match=message):
        load_benefit(path)
    path.write_text(LEVELS.replace("LEVELS", "[high, low]"), encoding="utf-8")
    assert load_benefit(path).outputs["tariff"].levels == ("high", "low")


def test_a_campaign_grants_the_certain_band_of_a_partial_decision() -> None:
    campaign = load_campaign(ROOT / "campaigns" / "ghent" / "lez.yaml", ROOT / "benefits")
    partial = {"outcome": "eligible", "least_tariff": "reduced"}
    assert certain_band(campaign, partial) == "reduced"
    assert certain_band(campaign, {"outcome": "undetermined", "least_tariff": None}) is None


def test_the_scale_report_counts_partial_and_bound_settled_decisions() -> None:
    frame = pl.LazyFrame(
        {
            "outcome": ["eligible", "eligible", "not_eligible", "undetermined"],
            "out_tariff": ["reduced", None, None, None],
            "by_bounds": [False, False, True, False],
        }
    )
    assert decision_counts(frame) == {
        "eligible": 2,
        "not_eligible": 1,
        "undetermined": 1,
        "partial": 1,
        "by_bounds": 1,
    }
