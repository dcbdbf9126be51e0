"""An independent check of the Ghent decisions on a small synthetic city.

The criteria of `shared/domain/BELGIUM.md` are re-implemented here in plain Python, from the
criteria alone (not from the benefit files), with three-valued logic (None = unknown). The
columnar engine decides every Ghent benefit on the registry view; every eligible decision must
be one the independent criteria grant on that same view, with the same tariff, category or
amount — so no subject is told "eligible" wrongly on the data the city has. Where the engine is
eligible but the ground truth is not, the registry view must differ from the truth for that
subject (the registry caused it, not the rule).

Reading of the register used by the criteria: positions 01 reference person, 02 spouse, 03 child,
05 grandchild, 06 parent, 09 sibling, 13 stepchild, 21/22 partners are family; 12 (unrelated)
and 20 (collective household, e.g. a care home) are not.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from entitle.registry.population import View, load_population
from entitle.registry.synth import REFERENCE_DATE, write_city
from entitle.rules.columnar import Population, evaluate_population
from entitle.rules.loader import load_benefit

GHENT_BENEFITS = Path(__file__).resolve().parents[1] / "benefits" / "ghent"
GHENT_NIS = "44021"
AS_OF: date = REFERENCE_DATE
FAMILY = {"01", "02", "03", "05", "06", "09", "13", "21", "22"}
PARENTS, CHILDREN = {"01", "02", "21", "22"}, {"03", "13"}
CHILD_CARD_FROM = date(2024, 4, 27)
GARBAGE_AMOUNT = {1: 42, 2: 63, 3: 84, 4: 105, 5: 105, 6: 126}  # euros
SCHOOL_MEAL_CEILING, SCHOOL_CARE_CEILING = 23_000_00, 33_000_00  # cents

Tri = bool | None
Row = dict[str, Any]


def and3(*values: Tri) -> Tri:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def or3(*values: Tri) -> Tri:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def any3(values: Iterable[Tri]) -> Tri:
    return or3(*values, False)


def eq3(value: Any, wanted: Any) -> Tri:
    return None if value is None else value == wanted


def in3(value: Any, allowed: set[str]) -> Tri:
    return None if value is None else value in allowed


@dataclass
class City:
    persons: dict[str, Row]
    households: dict[str, Row]
    members: dict[str, list[Row]]


def read_view(folder: Path, view: View) -> City:
    persons, households = load_population(folder, view, as_of=AS_OF)
    by_household: dict[str, list[Row]] = defaultdict(list)
    for row in persons.iter_rows(named=True):
        by_household[row["household_id"]].append(row)
    return City(
        {row["person_id"]: row for row in persons.iter_rows(named=True)},
        {row["household_id"]: row for row in households.iter_rows(named=True)},
        by_household,
    )


# ----------------------------------------------------------------------------- the criteria
# Each returns (eligible, output) with eligible True/False/None; the output is the tariff,
# category or amount the criteria give an eligible subject.


def uitpas(city: City, person: Row) -> tuple[Tri, Any]:
    """Resident of Ghent and (VT, or leefloon / equivalent, or OCMW debt help)."""
    leefloner = or3(person["ocmw_leefloon"], person["leefloon"])
    grounds = or3(person["increased_allowance"], leefloner, person["ocmw_debt_help"])
    return and3(eq3(person["municipality_nis"], GHENT_NIS), grounds), "kansentarief"


def garbage_bags(city: City, household: Row) -> tuple[Tri, Any]:
    """A private Ghent household with a member with VT or OCMW budget guidance; amount by size."""
    members = city.members[household["household_id"]]
    # At a reference address an officer confirms the situation with the OCMW.
    own_address = None if household["reference_address"] in (None, True) else True
    grounds = or3(
        any3(m["increased_allowance"] for m in members),
        any3(m["ocmw_budget_guidance"] for m in members),
    )
    private = None if household["collective"] is None else not household["collective"]
    eligible = and3(eq3(household["municipality_nis"], GHENT_NIS), private, own_address, grounds)
    return eligible, GARBAGE_AMOUNT[min(len(members), 6)]


def school_tariff(city: City, pupil: Row) -> tuple[Tri, Any]:
    """A city-school pupil: leefloon in the pupil's family → A; parents' income < 23,000 → B,
    < 33,000 → C; the other parent's household may count with a shared residence."""
    members = city.members[pupil["household_id"]]
    own_family = pupil["position_code"] in FAMILY
    family = [m for m in members if m["position_code"] in FAMILY] if own_family else []
    leefloon = any3(or3(m["ocmw_leefloon"], m["leefloon"]) for m in family)
    incomes = [m["taxable_income"] for m in members if m["position_code"] in PARENTS]
    income = None if None in incomes else sum(incomes)
    if pupil["shared_residence"] or not own_family:
        income = None
    below_care = None if income is None else income < SCHOOL_CARE_CEILING
    below_meal = None if income is None else income < SCHOOL_MEAL_CEILING
    eligible = and3(pupil["city_school_pupil"], or3(leefloon, below_care))
    if leefloon:
        return eligible, "A"
    return eligible, "B" if below_meal else "C" if below_care else None


def lez(city: City, person: Row) -> tuple[Tri, Any]:
    """Resident; exemption for a card holder with own VT, for a family member at the same address
    of such a card holder, and (from 27 April 2024) for a parent of a child with a child card and
    VT; the reduced tariff for a VT holder otherwise."""
    members = city.members[person["household_id"]]
    household = city.households[person["household_id"]]
    private = None if household["collective"] is None else not household["collective"]
    own = and3(person["disability_parking_card"], person["increased_allowance"])
    family_member = and3(private, in3(person["position_code"], FAMILY))
    family_card = and3(
        family_member,
        any3(
            and3(
                in3(m["position_code"], FAMILY),
                m["disability_parking_card"],
                m["increased_allowance"],
            )
            for m in members
        ),
    )
    parent_card = and3(
        AS_OF >= CHILD_CARD_FROM,
        private,
        in3(person["position_code"], PARENTS),
        any3(
            and3(
                in3(m["position_code"], CHILDREN),
                m["disability_parking_card_child"],
                m["increased_allowance"],
            )
            for m in members
        ),
    )
    exemption = or3(own, family_card, parent_card)
    eligible = and3(
        eq3(person["municipality_nis"], GHENT_NIS), or3(person["increased_allowance"], exemption)
    )
    return eligible, "exemption" if exemption else "reduced" if exemption is False else None


@dataclass(frozen=True)
class Criteria:
    file: str
    subject: str  # person | household
    decide: Callable[[City, Row], tuple[Tri, Any]]
    output: str | None  # the engine's output column compared with the criteria's output


CRITERIA = [
    Criteria("uitpas.yaml", "person", uitpas, "out_tariff"),
    Criteria("garbage-bags.yaml", "household", garbage_bags, "out_amount"),
    Criteria("school-tariff.yaml", "person", school_tariff, "out_category"),
    Criteria("lez.yaml", "person", lez, "out_tariff"),
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("independent") / "city"
    write_city(12_000, 5, out)  # a city with card holders in care homes
    return out


@pytest.fixture(scope="module")
def views(folder: Path) -> dict[str, City]:
    return {"registry": read_view(folder, "registry"), "truth": read_view(folder, "truth")}


def engine_decisions(folder: Path, criteria: Criteria) -> pl.DataFrame:
    persons, households = load_population(folder, "registry", as_of=AS_OF)
    benefit = load_benefit(GHENT_BENEFITS / criteria.file)
    return evaluate_population(benefit, Population(persons, households), AS_OF)


def subjects_of(city: City, subject: str) -> dict[str, Row]:
    return city.persons if subject == "person" else city.households


def differs(registry: City, truth: City, subject: str, subject_id: str) -> bool:
    """Whether the registry view of the subject (and its household) differs from the truth."""
    if subject_id not in subjects_of(truth, subject):
        return True
    household_id = (
        registry.persons[subject_id]["household_id"] if subject == "person" else subject_id
    )
    seen = registry.members[household_id]
    ids = {m["person_id"] for m in seen}
    if subject == "person":
        ids |= {m["person_id"] for m in truth.members[truth.persons[subject_id]["household_id"]]}
    return any(registry.persons.get(i) != truth.persons.get(i) for i in ids) or (
        registry.households.get(household_id) != truth.households.get(household_id)
    )


def output_agrees(column: str, row: dict[str, Any], output: Any) -> bool:
    """The engine's output equals the criteria's, or is open (a partial decision: eligibility
    certain, the output still to settle) where the criteria cannot settle it either or with a
    certain minimum no better than the criteria's."""
    if row[column] is not None:
        return bool(row[column] == output)
    if output is None:  # the criteria cannot settle the output either
        return True
    least = row.get(column.replace("out_", "least_", 1))
    return least is not None and (least == output or output in BETTER.get(least, ()))


# Output levels better than a certain minimum (the benefits' `levels`, least favourable first).
BETTER = {"C": ("B", "A"), "B": ("A",), "reduced": ("exemption",)}


@dataclass
class Comparison:
    """The engine's decisions of one benefit against the independent criteria (subject ids)."""

    subjects: int
    eligible: int
    wrong: list[str]  # eligible, but the criteria do not grant it on the registry view
    wrong_output: list[tuple[str, Any, Any]]  # eligible with another tariff, category or amount
    not_caused_by_registry: list[str]  # not truly entitled, yet the registry view is current
    caused_by_registry: list[str]  # not truly entitled: the registry view differs from the truth
    refused: list[str]  # not eligible, although the criteria grant it


def compare(folder: Path, views: dict[str, City], criteria: Criteria) -> Comparison:
    """Decide the benefit with the columnar engine on the registry view and compare each
    decision with the criteria on that view (and each eligible one with the ground truth)."""
    registry, truth = views["registry"], views["truth"]
    decisions = engine_decisions(folder, criteria)
    subjects = subjects_of(registry, criteria.subject)
    result = Comparison(len(decisions), 0, [], [], [], [], [])
    for row in decisions.iter_rows(named=True):
        subject_id = row["subject_id"]
        granted, output = criteria.decide(registry, subjects[subject_id])
        if row["outcome"] == "eligible":
            result.eligible += 1
            if granted is not True:
                result.wrong.append(subject_id)
            elif criteria.output and not output_agrees(criteria.output, row, output):
                result.wrong_output.append((subject_id, row[criteria.output], output))
            in_truth = subjects_of(truth, criteria.subject).get(subject_id)
            truly = None if in_truth is None else criteria.decide(truth, in_truth)[0]
            if truly is not True:
                caused = differs(registry, truth, criteria.subject, subject_id)
                (result.caused_by_registry if caused else result.not_caused_by_registry).append(
                    subject_id
                )
        elif row["outcome"] == "not_eligible" and granted is True:
            result.refused.append(subject_id)
    return result


@pytest.mark.parametrize("criteria", CRITERIA, ids=lambda c: c.file.removesuffix(".yaml"))
def test_every_eligible_decision_is_granted_by_the_criteria_on_the_registry_view(
    folder: Path, views: dict[str, City], criteria: Criteria
) -> None:
    found = compare(folder, views, criteria)
    assert found.wrong == [], f"{len(found.wrong)} told eligible wrongly on the registry view"
    assert found.wrong_output == []
    assert found.not_caused_by_registry == []
    assert found.refused == [], f"{len(found.refused)} refused although the criteria grant it"
    assert found.eligible > 0


def test_the_city_has_the_households_that_caught_the_lez_mistake(views: dict[str, City]) -> None:
    """Not vacuous: care homes have residents with a parking card and VT among co-residents."""
    registry = views["registry"]
    care_homes = [
        members
        for household_id, members in registry.members.items()
        if registry.households[household_id]["collective"]
        and any(m["disability_parking_card"] and m["increased_allowance"] for m in members)
    ]
    assert care_homes and all(len(members) > 1 for members in care_homes)
