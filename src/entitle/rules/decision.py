"""The decision both engines produce, and the subject it is about."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from entitle.rules.logic import Outcome


@dataclass(frozen=True)
class Subject:
    """Who a decision is about: a person (with their household) or a household."""

    kind: str  # person | household
    id: str
    household_id: str
    members: tuple[str, ...]  # the household in listing order (`listing`), the subject included


def listing(members: Iterable[tuple[str, str | None]]) -> tuple[str, ...]:
    """A household's members (person id, position code) in listing order: by position code
    (01 reference person, 02 partner, 03 child, …; unknown last), then by person id.

    Derived from the data alone, so every table order gives the same listing: both engines ask a
    member fact one member at a time in this order (the subject's own first) and number the
    members by it."""
    return tuple(
        person for person, _ in sorted(members, key=lambda m: (m[1] is None, m[1] or "", m[0]))
    )


class FactRequest(NamedTuple):
    """One fact of one entity, as the engines ask a provider for it."""

    entity_id: str
    fact: str  # catalogue name, e.g. person.increased_allowance


@dataclass(frozen=True)
class TraceLine:
    """One condition of the explanation: its value, why, and what it read (never raw values)."""

    condition: str
    text: dict[str, str]
    value: bool | None
    rule: str  # the condition in words, parameters filled in
    facts: tuple[str, ...]  # catalogue names read by the condition
    missing: tuple[str, ...]  # facts that were asked for and had no data
    consulted: bool  # False when the condition was not needed to decide


@dataclass(frozen=True)
class MissingFact:
    """A fact that would settle part of a decision: which fact, whose, and what it settles.

    `whose` is `subject` (the subject person), `household` (a fact of the household) or `member`
    (another member: `member` is their 1-based position in the household listing). Never a value
    and never an identifier: consumers name the member by role (see `entitle.decide.whose`).
    """

    fact: str
    whose: str  # subject | household | member
    member: int | None  # 1-based position in the household listing, members only
    settles: tuple[str, ...]  # "eligible" and/or the names of the open outputs it would settle

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready rendering."""
        return {
            "fact": self.fact,
            "whose": self.whose,
            "member": self.member,
            "settles": list(self.settles),
        }


# a household member's position code in the register -> their role, as a key: the words are the
# catalogues' `member.role.<role>` (`entitle.decide.whose` says them)
ROLES = {
    "01": "reference_person",
    "02": "partner",
    "21": "partner",
    "22": "partner",
    "03": "child",
    "13": "child",
    "05": "grandchild",
    "06": "parent",
    "09": "sibling",
}


PARTNERS = ("02", "21", "22")
CHILDREN = ("03", "13")
PARENTS = ("01", *PARTNERS)
# (subject's position, member's position) -> the member's role seen from the subject, as the
# position code of `ROLES` that names it (the register's codes are relative to the reference person)
RELATIONS: dict[tuple[str, str], str] = {
    **{("01", code): code for code in ("02", "21", "22", "03", "13", "05", "06", "09")},
    **{(code, "01"): "02" for code in PARTNERS},
    **{(partner, child): "03" for partner in PARTNERS for child in CHILDREN},
    **{(child, parent): "06" for child in CHILDREN for parent in PARENTS},
    **{(child, other): "09" for child in CHILDREN for other in CHILDREN},
    ("06", "01"): "03",
    ("09", "01"): "09",
}


@dataclass
class Decision:
    """The outcome for one subject: minimised outputs and reasons, never raw sensitive values."""

    benefit: str
    version: str
    subject_kind: str
    subject_id: str
    as_of: date
    outcome: Outcome
    outputs: dict[str, Any]
    conditions: dict[str, bool | None]
    facts_used: list[str]
    facts_missing: list[str]
    valid_until: date | None
    fetch_count: int
    trace: list[TraceLine] = field(default_factory=list)
    missing: list[MissingFact] = field(default_factory=list)  # structured `facts_missing`
    at_least: dict[str, Any] = field(default_factory=dict)  # certain minimum of open outputs

    @property
    def open_outputs(self) -> list[str]:
        """Outputs still unknown although eligibility is certain (a partial decision)."""
        if self.outcome != Outcome.ELIGIBLE:
            return []
        return [name for name, value in self.outputs.items() if value is None]

    @property
    def partial(self) -> bool:
        """Eligible for certain, with at least one output still open."""
        return bool(self.open_outputs)

    def to_dict(self, explain: bool = False) -> dict[str, Any]:
        """A JSON-ready rendering."""
        out: dict[str, Any] = {
            "benefit": self.benefit,
            "version": self.version,
            "subject": {"kind": self.subject_kind, "id": self.subject_id},
            "as_of": self.as_of.isoformat(),
            "outcome": str(self.outcome),
            "outputs": self.outputs,
            "conditions": self.conditions,
            "facts_used": self.facts_used,
            "facts_missing": self.facts_missing,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "fetch_count": self.fetch_count,
            "open_outputs": self.open_outputs,
            "at_least": self.at_least,
            "missing": [item.to_dict() for item in self.missing],
        }
        if explain:
            out["trace"] = [
                {
                    "condition": line.condition,
                    "text": line.text,
                    "value": line.value,
                    "rule": line.rule,
                    "facts": list(line.facts),
                    "missing": list(line.missing),
                    "consulted": line.consulted,
                }
                for line in self.trace
            ]
        return out
