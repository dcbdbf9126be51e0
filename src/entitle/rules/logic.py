"""Three-valued (Kleene) values and the outcome of a decision.

`None` stands for *unknown* everywhere in the engines: a fact the registry could not give, or one
that was not fetched because it could not change the outcome. Unknown is never read as false.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

Tri = bool | None


class Outcome(StrEnum):
    """The outcome of a decision."""

    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    UNDETERMINED = "undetermined"


def and3(values: Iterable[Tri]) -> Tri:
    """Kleene conjunction: false wins, then unknown, then true."""
    result: Tri = True
    for value in values:
        if value is False:
            return False
        if value is None:
            result = None
    return result


def or3(values: Iterable[Tri]) -> Tri:
    """Kleene disjunction: true wins, then unknown, then false."""
    result: Tri = False
    for value in values:
        if value is True:
            return True
        if value is None:
            result = None
    return result


def not3(value: Tri) -> Tri:
    """Kleene negation: unknown stays unknown."""
    return None if value is None else not value


def outcome_of(eligible: Tri) -> Outcome:
    """The outcome for an eligibility value.

    Eligibility decides alone: an eligible subject whose outputs are partly unknown is a *partial*
    decision (eligible, with those outputs open), not an undetermined one.
    """
    if eligible is False:
        return Outcome.NOT_ELIGIBLE
    if eligible is True:
        return Outcome.ELIGIBLE
    return Outcome.UNDETERMINED
