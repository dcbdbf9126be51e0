"""Cases: a subject with its facts, as written in test files and `entitle decide --facts`.

A case names the subject person (`person:`) and/or the household (`household:` with `members:`);
every other key is a fact. A fact that is absent or `null` is one the registry had no data for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from entitle.rules.catalogue import Catalogue
from entitle.rules.decision import FactRequest, Subject, listing
from entitle.rules.expr import T


class CaseError(ValueError):
    """A case that cannot be read."""


@dataclass
class Case:
    """A subject and the facts a provider would answer for it."""

    name: str
    as_of: date
    subject: Subject
    facts: dict[FactRequest, Any]
    expect: dict[str, Any] = field(default_factory=dict)


class DictProvider:
    """Answers requests from a dict of facts and remembers what was asked."""

    def __init__(self, facts: Mapping[FactRequest, Any]) -> None:
        self.facts = facts
        self.asked: list[FactRequest] = []
        self.calls = 0

    def __call__(self, requests: Sequence[FactRequest]) -> dict[FactRequest, Any]:
        self.calls += 1
        self.asked.extend(requests)
        return {r: self.facts[r] for r in requests if self.facts.get(r) is not None}


def fact_value(vtype: T, value: Any, where: str) -> Any:
    """Convert a fact as written (euros, ISO dates) to the engines' form (cents, dates)."""
    if value is None:
        return None
    try:
        if vtype == T.MONEY:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError
            return round(value * 100)
        if vtype == T.DATE:
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        if vtype == T.BOOL:
            if not isinstance(value, bool):
                raise ValueError
            return value
        if vtype == T.INT:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError
            return value
        if vtype == T.NUMBER:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError
            return float(value)
        return str(value)
    except ValueError:
        raise CaseError(f"{where}: {value!r} is not a valid {vtype}") from None


def parse_case(
    raw: Mapping[str, Any],
    subject_kind: str,
    catalogue: Catalogue,
    *,
    default_as_of: date | None = None,
) -> Case:
    """Read one case; raise `CaseError` naming the faulty key."""
    name = str(raw.get("name", "case"))
    allowed = {"name", "as_of", "person", "household", "expect", "description"}
    for key in raw:
        if key not in allowed:
            raise CaseError(f"case {name!r}: unknown key {key!r}")
    as_of_raw = raw.get("as_of", default_as_of)
    if as_of_raw is None:
        raise CaseError(f"case {name!r}: as_of is missing")
    try:
        as_of = as_of_raw if isinstance(as_of_raw, date) else date.fromisoformat(str(as_of_raw))
    except ValueError:
        raise CaseError(f"case {name!r}: as_of {as_of_raw!r} is not a date (YYYY-MM-DD)") from None
    for part in ("household", "person"):
        if raw.get(part) is not None and not isinstance(raw[part], Mapping):
            raise CaseError(f"case {name!r}: '{part}' must be a mapping of facts")
    household = dict(raw.get("household") or {})
    person = dict(raw.get("person") or {})
    if subject_kind == "person" and not raw.get("person"):
        raise CaseError(f"case {name!r}: a person benefit needs 'person:'")
    if subject_kind == "household" and person:
        raise CaseError(f"case {name!r}: a household benefit takes 'household:' with members")
    household_id = str(household.pop("id", "household"))
    members_raw = list(household.pop("members", None) or [])
    facts: dict[FactRequest, Any] = {}
    member_ids: list[str] = []
    if subject_kind == "person":
        person_id = str(person.pop("id", "subject"))
        member_ids.append(person_id)
        _person_facts(facts, person_id, person, catalogue, f"case {name!r} person")
    for i, raw_member in enumerate(members_raw):
        if not isinstance(raw_member, Mapping):
            raise CaseError(f"case {name!r}: member {i + 1} must be a mapping of facts")
        member = dict(raw_member)
        member_id = str(member.pop("id", f"member{i + 1}"))
        if member_id in member_ids:
            raise CaseError(f"case {name!r}: member id {member_id!r} appears twice")
        member_ids.append(member_id)
        _person_facts(facts, member_id, member, catalogue, f"case {name!r} member {member_id}")
    for key, value in household.items():
        spec = catalogue.get(f"household.{key}")
        if spec is None:
            raise CaseError(f"case {name!r} household: unknown fact 'household.{key}'")
        converted = fact_value(spec.type, value, f"case {name!r} household.{key}")
        if converted is not None:
            facts[FactRequest(household_id, spec.name)] = converted
    subject_id = member_ids[0] if subject_kind == "person" else household_id
    members = [(i, facts.get(FactRequest(i, "person.position_code"))) for i in member_ids]
    subject = Subject(subject_kind, subject_id, household_id, listing(members))
    return Case(name, as_of, subject, facts, dict(raw.get("expect") or {}))


def _person_facts(
    facts: dict[FactRequest, Any],
    person_id: str,
    raw: Mapping[str, Any],
    catalogue: Catalogue,
    where: str,
) -> None:
    for key, value in raw.items():
        spec = catalogue.get(f"person.{key}")
        if spec is None:
            raise CaseError(f"{where}: unknown fact 'person.{key}'")
        converted = fact_value(spec.type, value, f"{where} {key}")
        if converted is not None:
            facts[FactRequest(person_id, spec.name)] = converted
