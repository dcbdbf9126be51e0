"""The hindsight minimum of bench/gateway.py: the fewest facts that settle a decision."""

from __future__ import annotations

import sys
from datetime import date
from itertools import combinations
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from entitle.rules.cases import Case, DictProvider, parse_case
from entitle.rules.catalogue import default_catalogue
from entitle.rules.decision import FactRequest, Subject
from entitle.rules.loader import load_benefit
from entitle.rules.model import Benefit
from entitle.rules.scalar import evaluate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from hindsight import all_requests, hindsight, no_data, settled_state  # noqa: E402

AS_OF = date(2026, 3, 1)
CATALOGUE = default_catalogue()


def cases_of(benefit_file: Path) -> tuple[Benefit, list[Case]]:
    benefit = load_benefit(benefit_file)
    raw = YAML(typ="safe").load(benefit_file.with_suffix("").with_suffix(".tests.yaml").read_text())
    return benefit, [parse_case(c, benefit.subject, CATALOGUE) for c in raw["cases"]]


def full_facts(benefit: Benefit, case: Case) -> dict[FactRequest, object]:
    requests = all_requests(benefit, case.subject, CATALOGUE)
    return {r: case.facts.get(r) for r in requests}


def brute_force_minimum(benefit: Benefit, case: Case) -> int:
    """Every subset of the known facts, smallest first (the definition, without shortcuts)."""
    facts = full_facts(benefit, case)
    target = settled_state(
        evaluate(benefit, case.subject, no_data, case.as_of, explain=False, known=facts)
    )
    known = [r for r, v in facts.items() if v is not None]
    for size in range(len(known) + 1):
        for subset in combinations(known, size):
            given = {r: facts[r] for r in subset}
            decision = evaluate(
                benefit, case.subject, no_data, case.as_of, explain=False, known=given
            )
            if settled_state(decision) == target:
                return size
    raise AssertionError("unreachable")


GHENT = sorted((ROOT / "benefits" / "ghent").glob("*[!s].yaml"))


@pytest.mark.parametrize("benefit_file", GHENT, ids=lambda p: p.stem)
def test_the_engine_never_fetches_fewer_than_the_minimum(benefit_file: Path) -> None:
    """The minimum is a lower bound of any fetch strategy, so of the engine's own."""
    benefit, cases = cases_of(benefit_file)
    for case in cases:
        provider = DictProvider(case.facts)
        decision = evaluate(benefit, case.subject, provider, case.as_of, explain=False)
        best = hindsight(benefit, case.subject, full_facts(benefit, case), case.as_of)
        assert best.exact
        assert best.minimum <= decision.fetch_count, case.name


@pytest.mark.parametrize("benefit_file", GHENT[:2], ids=lambda p: p.stem)
def test_the_minimum_equals_brute_force_over_every_subset(benefit_file: Path) -> None:
    benefit, cases = cases_of(benefit_file)
    for case in cases:
        if sum(v is not None for v in full_facts(benefit, case).values()) > 12:
            continue  # brute force over 2^n subsets: small cases only
        if case.expect.get("outcome") == "undetermined":
            continue  # open decisions also count the facts found missing
        best = hindsight(benefit, case.subject, full_facts(benefit, case), case.as_of)
        assert best.minimum == brute_force_minimum(benefit, case), case.name


def test_uitpas_examples() -> None:
    benefit = load_benefit(ROOT / "benefits" / "ghent" / "uitpas.yaml")
    subject = Subject("person", "p", "h", ("p",))

    def facts(**values: object) -> dict[FactRequest, object]:
        requests = all_requests(benefit, subject, CATALOGUE)
        return {r: values.get(r.fact.removeprefix("person."), False) for r in requests}

    # Not a resident: that one fact settles it.
    assert hindsight(benefit, subject, facts(municipality_nis="11002"), AS_OF).minimum == 1
    # A resident with two grounds: residence and either ground.
    two = facts(municipality_nis="44021", increased_allowance=True, ocmw_debt_help=True)
    assert hindsight(benefit, subject, two, AS_OF).minimum == 2
    # No ground: the four grounds read as false settle it even without the residence (Kleene:
    # unknown and false is false).
    none = facts(municipality_nis="44021")
    assert hindsight(benefit, subject, none, AS_OF).minimum == len(none) - 1 == 4


def test_sensitive_data_is_avoidable_when_social_status_settles_lez() -> None:
    benefit = load_benefit(ROOT / "benefits" / "ghent" / "lez.yaml")
    subject = Subject("person", "p", "h", ("p",))
    requests = all_requests(benefit, subject, CATALOGUE)
    base = {r: None for r in requests} | {
        FactRequest("p", "person.municipality_nis"): "44021",
        FactRequest("p", "person.position_code"): "01",
        FactRequest("h", "household.collective"): False,
        FactRequest("p", "person.disability_parking_card"): True,
        FactRequest("p", "person.disability_parking_card_child"): False,
    }
    no_vt = base | {FactRequest("p", "person.increased_allowance"): False}
    assert hindsight(benefit, subject, no_vt, AS_OF).sensitive_avoidable
    with_vt = base | {FactRequest("p", "person.increased_allowance"): True}
    best = hindsight(benefit, subject, with_vt, AS_OF)
    assert not best.sensitive_avoidable  # the exemption needs the parking card
