"""The decision both engines produce, and the subject it is about."""

from __future__ import annotations

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
    members: tuple[str, ...]  # person ids of the household, the subject person included


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
