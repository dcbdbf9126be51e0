"""An OpenFisca model of two Ghent benefits, built from the benchmark's tables.

Entities: `person` and `household` (roles: the reference person and the other members). The input
variables are the catalogue's facts; the formulas are Entitle's `ghent.uitpas` and
`ghent.garbage-bags`. OpenFisca has no *unknown*: a null fact is read as false (or 0), so on rows
with nulls it may answer "no" where Entitle answers "undetermined".
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import polars as pl
from openfisca_core.entities import build_entity
from openfisca_core.model_api import Variable
from openfisca_core.parameters import ParameterNode
from openfisca_core.periods import DateUnit
from openfisca_core.simulations import Simulation, SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem

GHENT_NIS = b"44021"  # text variables with a max_length are fixed-width bytes in OpenFisca
TEXT_WIDTH = 8
AMOUNT_BY_SIZE = {1: 42, 2: 63, 3: 84, 4: 105, 5: 105, 6: 126}  # euros, from 2024-01-01

Person = build_entity(key="person", plural="persons", label="A person", is_person=True)
Household = build_entity(
    key="household",
    plural="households",
    label="A household (gezin) in the national register",
    roles=[
        {"key": "reference_person", "label": "Reference person (position 01)", "max": 1},
        {"key": "other_member", "plural": "other_members", "label": "Other member"},
    ],
)

# Input facts: (name, entity, value type). Dates and ids never change within the year.
PERSON_FACTS: dict[str, type] = {
    "birth_date": date,
    "municipality_nis": str,
    "reference_address": bool,
    "position_code": str,
    "shared_residence": bool,
    "ocmw_leefloon": bool,
    "ocmw_debt_help": bool,
    "ocmw_budget_guidance": bool,
    "city_school_pupil": bool,
    "increased_allowance": bool,
    "leefloon": bool,
    "disability_parking_card": bool,
    "disability_parking_card_child": bool,
    "taxable_income": int,  # euro cents
}
HOUSEHOLD_FACTS: dict[str, type] = {
    "municipality_nis": str,
    "reference_address": bool,
    "collective": bool,
}
# What the two formulas read: the only inputs the vectorised build sets.
PERSON_INPUTS = (
    "municipality_nis",
    "increased_allowance",
    "leefloon",
    "ocmw_leefloon",
    "ocmw_debt_help",
    "ocmw_budget_guidance",
)
HOUSEHOLD_INPUTS = ("municipality_nis", "reference_address", "collective")
OUTPUTS = (
    "uitpas_eligible",
    "garbage_bags_eligible",
    "garbage_bags_amount",
    "garbage_bags_extra_credit",
)


def _input_variable(name: str, entity: Any, value_type: type) -> type[Variable]:
    """A Variable class for one input fact (the household facts get a `household_` prefix)."""
    attrs: dict[str, Any] = {
        "value_type": value_type,
        "entity": entity,
        "definition_period": DateUnit.ETERNITY if value_type is date else DateUnit.YEAR,
        "label": name.replace("_", " "),
    }
    if value_type is str:
        attrs["max_length"] = TEXT_WIDTH
    prefix = "household_" if entity is Household else ""
    return type(prefix + name, (Variable,), attrs)


class uitpas_eligible(Variable):  # OpenFisca names a variable by its class
    """ghent.uitpas: lives in Ghent and has a social status that gives the opportunity tariff."""

    value_type = bool
    entity = Person
    definition_period = DateUnit.YEAR
    label = "UiTPAS opportunity tariff (kansentarief)"

    def formula(person: Any, period: Any, parameters: Any) -> Any:
        """In Ghent and (increased allowance or leefloon or OCMW leefloon or OCMW debt help)."""
        resident = person("municipality_nis", period) == GHENT_NIS
        status = (
            person("increased_allowance", period)
            + person("leefloon", period)
            + person("ocmw_leefloon", period)
            + person("ocmw_debt_help", period)
        )
        return resident * status


class garbage_bags_eligible(Variable):
    """ghent.garbage-bags: a Ghent household (not collective, not at a reference address)."""

    value_type = bool
    entity = Household
    definition_period = DateUnit.YEAR
    label = "Free garbage bags"

    def formula(household: Any, period: Any, parameters: Any) -> Any:
        """In Ghent, not collective nor at a reference address, a member with VT or guidance."""
        resident = household("household_municipality_nis", period) == GHENT_NIS
        collective = household("household_collective", period)
        reference = household("household_reference_address", period)
        status = household.members("increased_allowance", period) + household.members(
            "ocmw_budget_guidance", period
        )
        return (
            resident
            * np.logical_not(collective)
            * np.logical_not(reference)
            * household.any(status)
        )


class garbage_bags_amount(Variable):
    """The amount of the garbage-bag credit: a table by household size (capped at 6)."""

    value_type = float
    entity = Household
    definition_period = DateUnit.YEAR
    label = "Garbage-bag credit (euro)"

    def formula(household: Any, period: Any, parameters: Any) -> Any:
        """lookup(amount_by_size, min(household.size, 6)), for eligible households only."""
        node = parameters(period.start).ghent.garbage_bags.amount_by_size
        table = np.array([0.0] + [float(node[f"size_{size}"]) for size in range(1, 7)])
        size = np.minimum(household.nb_persons(), 6)
        return table[size] * household("garbage_bags_eligible", period)


class garbage_bags_extra_credit(Variable):
    """The extra credit: half the amount."""

    value_type = float
    entity = Household
    definition_period = DateUnit.YEAR
    label = "Garbage-bag extra credit (euro)"

    def formula(household: Any, period: Any, parameters: Any) -> Any:
        """amount / 2."""
        return household("garbage_bags_amount", period) / 2


def build_tax_benefit_system() -> TaxBenefitSystem:
    """The TaxBenefitSystem: entities, input facts, the two benefits and their parameter."""
    system = TaxBenefitSystem([Person, Household])
    for name, value_type in PERSON_FACTS.items():
        system.add_variable(_input_variable(name, Person, value_type))
    for name, value_type in HOUSEHOLD_FACTS.items():
        system.add_variable(_input_variable(name, Household, value_type))
    system.add_variables(
        uitpas_eligible, garbage_bags_eligible, garbage_bags_amount, garbage_bags_extra_credit
    )
    amounts = {
        f"size_{size}": {"values": {"2024-01-01": {"value": euros}}}
        for size, euros in AMOUNT_BY_SIZE.items()
    }
    system.parameters = ParameterNode(
        "", data={"ghent": {"garbage_bags": {"amount_by_size": amounts}}}
    )
    return system


def _column(frame: pl.DataFrame, name: str, value_type: type) -> np.ndarray:
    """A column as the numpy array OpenFisca wants; nulls become false / 0 / ""."""
    series = frame.get_column(name)
    if value_type is bool:
        return series.fill_null(False).to_numpy()
    if value_type is int:
        return series.fill_null(0).to_numpy()
    if value_type is str:
        return series.fill_null("").to_numpy().astype(f"S{TEXT_WIDTH}")
    return series.to_numpy()


def build_simulation(
    system: TaxBenefitSystem,
    persons: pl.DataFrame,
    households: pl.DataFrame,
    year: int,
) -> Simulation:
    """A vectorised simulation of the whole population (arrays, not per-person dicts)."""
    # Households are joined by their row number (integers sort far faster than id strings in
    # OpenFisca's join_with_persons); the mapping is one polars join.
    index = households.select("household_id").with_row_index("household_index")
    membership = (
        persons.select("household_id")
        .join(index, on="household_id", how="left", maintain_order="left")
        .get_column("household_index")
        .to_numpy()
    )
    roles = np.where(
        (persons.get_column("position_code") == "01").to_numpy(), "reference_person", "other_member"
    )
    builder = SimulationBuilder()
    builder.create_entities(system)
    builder.declare_person_entity("person", persons.get_column("person_id").to_numpy())
    household_instance = builder.declare_entity("household", np.arange(households.height))
    builder.join_with_persons(household_instance, membership, roles)
    simulation = builder.build(system)
    period = str(year)
    for name in PERSON_INPUTS:
        simulation.set_input(name, period, _column(persons, name, PERSON_FACTS[name]))
    for name in HOUSEHOLD_INPUTS:
        simulation.set_input(
            "household_" + name, period, _column(households, name, HOUSEHOLD_FACTS[name])
        )
    return simulation


def calculate(simulation: Simulation, year: int) -> dict[str, np.ndarray]:
    """The two benefits' outputs for every person / household."""
    return {name: simulation.calculate(name, str(year)) for name in OUTPUTS}


def run(
    system: TaxBenefitSystem, persons: pl.DataFrame, households: pl.DataFrame, year: int
) -> dict[str, np.ndarray]:
    """Tables → built simulation → calculated outputs (what the benchmark times)."""
    return calculate(build_simulation(system, persons, households, year), year)


def situation(
    members: list[dict[str, Any]], household: dict[str, Any], year: int
) -> dict[str, Any]:
    """An OpenFisca situation (the JSON-like input of the web API) for one household."""
    period = str(year)
    persons: dict[str, Any] = {}
    for member in members:
        facts: dict[str, Any] = {}
        for name, value_type in PERSON_FACTS.items():
            value = member.get(name)
            if value is None:
                continue  # OpenFisca falls back to the default: false / 0
            if value_type is date:
                facts[name] = {"ETERNITY": value.isoformat()}
            else:
                facts[name] = {period: value}
        persons[member["person_id"]] = facts
    group: dict[str, Any] = {
        "reference_person": [m["person_id"] for m in members if m["position_code"] == "01"],
        "other_members": [m["person_id"] for m in members if m["position_code"] != "01"],
    }
    for name in HOUSEHOLD_FACTS:
        if household.get(name) is not None:
            group["household_" + name] = {period: household[name]}
    return {"persons": persons, "households": {household["household_id"]: group}}


def decide_one(
    system: TaxBenefitSystem, situation_: dict[str, Any], variable: str, year: int
) -> np.ndarray:
    """Build a simulation of one situation and calculate one variable (one decision)."""
    simulation = SimulationBuilder().build_from_entities(system, situation_)
    return np.asarray(simulation.calculate(variable, str(year)))


def main() -> None:
    """Time the OpenFisca side alone: `python bench/openfisca_model.py [persons] [seed]`."""
    import statistics
    import sys
    import time

    from population import generate_population

    persons_n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 42
    persons, households = generate_population(persons_n, seed)
    system = build_tax_benefit_system()
    t0 = time.perf_counter()
    simulation = build_simulation(system, persons, households, 2026)
    t1 = time.perf_counter()
    results = calculate(simulation, 2026)
    t2 = time.perf_counter()
    print(
        f"build {t1 - t0:.2f} s, calculate {t2 - t1:.2f} s, {persons_n / (t2 - t0):,.0f} persons/s"
    )
    for name, values in results.items():
        print(f"  {name:28} sum {float(values.sum()):,.0f}")

    by_household = persons.partition_by("household_id", as_dict=True)
    rows = households.head(200).to_dicts()
    times = []
    for row in rows:
        members = by_household[(row["household_id"],)].to_dicts()
        start = time.perf_counter()
        decide_one(system, situation(members, row, 2026), "uitpas_eligible", 2026)
        times.append(time.perf_counter() - start)
    print(f"one-household build + calculate: median {statistics.median(times) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
